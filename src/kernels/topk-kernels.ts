import { compiledKernel, fixedMemory, instantiateKernel, type WasmMemory } from './wasm.js';
import { TOPK_WASM_BASE64 } from './topk-wasm.js';

/** The functions of the top-N kernel module (src/kernels/topk.wat); pointers are byte offsets into its memory. */
export interface TopkKernelExports {
  /** out[t] = init + bi[list[t]] + Σ_f p[f] Q[list[t], f] for t < n, bit for bit models/scoring.ts's rawScores (Q, bi float32; p, out float64). */
  scoreRows(out: number, p: number, q: number, init: number, bi: number, list: number, n: number, k: number): void;
  /**
   * The byte offsets the calls below work on (src/kernels/topk.wat): per scan position bias, norm, popA, popB
   * (float64), excl (int32), bi (float32) and q's row (k float32); pos (int32 per dense movie); p (k float64); a
   * chunk's list (int32) and out (float64); the stats counter (int32).
   */
  setLayout(
    bias: number, norm: number, popA: number, popB: number, excl: number, pos: number, p: number, q: number, bi: number,
    list: number, out: number, stats: number, k: number,
  ): void;
  /** The ranking: sig 1, the link lo + b·sigmoid(s) (b the span); sig 0, s clipped to [lo, b]; w the popularity weight. */
  setRank(sig: number, lo: number, b: number, w: number): void;
  /** An upper bound of 1/(1 + e^-x) within 1.1e-4 (pruned-top-n.ts's sigmoidUpper, bit for bit), from the table set below. */
  sigmoidUpper(x: number): number;
  /** Where sigmoidUpper's table (SIGMOID_TABLE of pruned-top-n.ts, 1,282 float64) is. */
  setSigmoidTable(at: number): void;
  /** excl[pos[m]] = mark for the n dense movies m at byte src (those that are not candidates skipped). */
  markExcluded(src: number, n: number, mark: number): void;
  /**
   * One chunk [from, to) of a PrunedTopN scan: a movie is scored when x = init + bias[t] + a·norm[t] is not below
   * floor, the rank bound of x with popularity popA[t] + a2·popB[t], plus eps, is not below theta, and excl[t] is
   * not mark; those whose score passes both tests too go to list and out; returns how many, and adds the number
   * scored to stats.
   */
  scanChunk(from: number, to: number, floor: number, theta: number, eps: number, init: number, a: number, a2: number, mark: number): number;
  /** out[t] = |row t| over n float32 rows of k at src (float64 sums in factor order, as a JS loop sums them). */
  rowNorms(src: number, n: number, k: number, out: number): void;
  /** Row t of dst = row from[t] of src, for n float32 rows of k. */
  gatherRows(dst: number, src: number, from: number, n: number, k: number): void;
}

/** A zeroed, fixed-size memory of at least `bytes` bytes with the top-N kernels bound to it; undefined without wasm SIMD or beyond 4 GiB. */
export function topkKernels(bytes: number): { memory: WasmMemory; exports: TopkKernelExports } | undefined {
  const mod = compiledKernel(TOPK_WASM_BASE64);
  const memory = mod ? fixedMemory(bytes, false) : undefined;
  return memory ? { memory, exports: instantiateKernel<TopkKernelExports>(mod!, memory) } : undefined;
}
