import { MAX_WASM_BYTES, type WasmMemory } from './param-memory.js';
import { TOPK_WASM_BASE64 } from './topk-wasm.js';

/** The functions of the top-N kernel module (src/kernels/topk.wat); pointers are byte offsets into its memory. */
export interface TopkKernelExports {
  /** out[t] = init + bi[list[t]] + Σ_f p[f] Q[list[t], f] for t < n, bit for bit models/scoring.ts's rawScores (Q, bi float32; p, out float64). */
  scoreRows(out: number, p: number, q: number, init: number, bi: number, list: number, n: number, k: number): void;
  /**
   * One chunk [from, to) of a PrunedTopN scan: the positions whose bound init + bias[t] + a·norm[t] reaches floor and
   * whose excl[t] is not mark are scored (scoreRows over rows of q); those whose score reaches floor go to list and
   * out; returns how many, and adds the number scored to the int32 at stats.
   */
  scanChunk(
    from: number, to: number, floor: number, init: number, a: number, mark: number,
    bias: number, norm: number, excl: number, p: number, q: number, bi: number, list: number, out: number, stats: number, k: number,
  ): number;
}

/** The WebAssembly APIs used here (the project's lib settings declare no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

/** The compiled module, once per process; null when this runtime cannot compile it (no SIMD). */
let compiled: object | null | undefined;

/** A zeroed, fixed-size memory of at least `bytes` bytes with the top-N kernels bound to it; undefined without wasm SIMD or beyond 4 GiB. */
export function topkKernels(bytes: number): { memory: WasmMemory; exports: TopkKernelExports } | undefined {
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(Buffer.from(TOPK_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (!compiled || pages * 65536 > MAX_WASM_BYTES) return undefined;
  const memory = new wasm.Memory({ initial: pages, maximum: pages });
  return { memory, exports: new wasm.Instance(compiled, { env: { memory } }).exports as TopkKernelExports };
}
