import { SIMD_SHARED_WASM_BASE64, SIMD_WASM_BASE64 } from './simd-wasm.js';
import { ADAM_SHARED_WASM_BASE64, ADAM_WASM_BASE64 } from './adam-wasm.js';
import { compiledKernel, fixedMemory, instantiateKernel, MAX_WASM_BYTES, type WasmMemory } from './wasm.js';

export { MAX_WASM_BYTES, type WasmMemory };

/** The functions of the training module (src/kernels/adam.wat) bound to a Param's memory; pointers are byte offsets. */
export interface TrainKernelExports {
  /**
   * One AdamW step over `count` rows of k floats: row numbers at `list`, each row's moments [m | v] at s + 8k·row,
   * each row's float64 scalars [b1m, b2v, keepA, keepC, isb0] at sc + 40 j (see the .wat for the equations);
   * zeroes the gradient it reads. wide ≠ 0 computes in float32 lanes, 0 in float64 like the JS loop.
   */
  adamwRows(
    list: number, count: number, k: number, w: number, g: number, s: number, sc: number,
    c1: number, c2: number, isb: number, eps: number, step: number, wide: number,
  ): void;
  /** acc + Σ P[u,f] Q[i,f] in float64, bit for bit factor-kernels.ts's dotRows. */
  dotRows(p: number, q: number, n: number, acc: number): number;
  /** gP[u] += g Q[i], gQ[i] += g P[u], bit for bit factor-kernels.ts's addPairGrad. */
  addPairGrad(gp: number, gq: number, p: number, q: number, n: number, g: number): void;
  /**
   * Forward and backward of n ratings (12-byte records user, item, rating at `batch`) of dot (bu = 0) or dotbias:
   * the models' trainBatch loops bit for bit; returns sse plus the batch's squared errors.
   */
  pairBatch(
    batch: number, n: number, k: number, p: number, q: number, gp: number, gq: number, bu: number, bi: number, gbu: number, gbi: number,
    lo: number, span: number, scale: number, sse: number,
  ): number;
  /** pairBatch's forward over records from..to-1: each rating's g and err as float64 pairs at out + 16 j; the tables are not written. */
  pairForward(batch: number, from: number, to: number, k: number, p: number, q: number, bu: number, bi: number, lo: number, span: number, scale: number, out: number): void;
  /**
   * One side of pairBatch's backward from pairForward's output at gin: own 0 the user side (gb[u] += g, gx[u] += g y[i]),
   * own 4 the item side (gb[i] += g, gx[i] += g y[u]); gb 0 without biases; only rows with row & mask = part (mask 0:
   * all). Both sides of every row together give pairBatch's bits.
   */
  pairAccumulate(batch: number, n: number, k: number, own: number, gx: number, y: number, gb: number, gin: number, mask: number, part: number): void;
}

/** The functions of the kernel module (src/kernels/simd.wat); pointers are byte offsets into its memory. */
export interface SimdKernelExports {
  /** z[b, j] = bias[j] + Σ_k x[b, k] W[j, k] over rows padded to dp floats (EmbeddingNN's dense layers). */
  nnForward(x: number, w: number, bias: number, z: number, n: number, dp: number, c: number): void;
  /** dW[j, :] = Σ_b dz[b, j] x[b, :] (written, not added), skipping zeros of dz; idx and val are n-entry scratch. */
  nnGradW(dz: number, x: number, gw: number, n: number, dp: number, c: number, idx: number, val: number): void;
  /** dx[b, :] = Σ_j dz[b, j] W[j, :], skipping zeros of dz; idx and val are c-entry scratch. */
  nnGradX(dz: number, w: number, dx: number, n: number, dp: number, c: number, idx: number, val: number): void;
  /** C[i, j] += alpha Σ_p A[i, p] B[j, p] over float64 row-major blocks (m × k times n × k), strides in elements. */
  gemmNT(c: number, a: number, b: number, m: number, n: number, k: number, ldc: number, lda: number, ldb: number, alpha: number): void;
}

/**
 * Where a Param lives in a WebAssembly memory, laid out as [value | grad | state | list | sc] (each 16-byte
 * aligned), and the training kernels bound to that memory. state is an AdamW's moments, each row's m and v side
 * by side (one random access a row on big tables instead of two), list (one int per row) and sc (five float64
 * per row) the rows and catch-up scalars of its step; the first optimizer built over
 * the param claims them (`owner`), any later one keeps its own arrays and the JS loop. Every memory ends with
 * {@link BATCH_BYTES} of batch scratch (`batchOffset`) for a model's per-batch kernel.
 */
export interface ParamKernel {
  /** The WebAssembly.Memory (shared for tables worker threads also step: it can be posted to a worker). */
  readonly memory: WasmMemory;
  /** Floats per array (rows × cols). */
  readonly length: number;
  readonly exports: TrainKernelExports;
  /** Byte offsets of value, grad and state in the memory. */
  readonly valueOffset: number;
  readonly gradOffset: number;
  readonly stateOffset: number;
  /** Byte offsets of the step's row list and row scalars, and of the memory's batch scratch. */
  readonly listOffset: number;
  readonly scOffset: number;
  readonly batchOffset: number;
  /** Optimizer state: row j's first moment at [2kj, 2kj + k), its second moment at [2kj + k, 2k(j + 1)) (k = length / rows). */
  readonly state: Float32Array;
  /** The step's row list (rows entries) and row scalars ({@link ROW_SCALARS} per row). */
  readonly list: Int32Array;
  readonly sc: Float64Array;
  /** The optimizer that uses m, v and r, once one has claimed them. */
  owner?: object;
}

/** A table's value and gradient views and its kernel binding. */
export interface ParamMemory {
  value: Float32Array;
  grad: Float32Array;
  kernel: ParamKernel;
}

/** Each module's bytes, plain and shared-memory. */
const SOURCES = {
  simd: [SIMD_WASM_BASE64, SIMD_SHARED_WASM_BASE64],
  adam: [ADAM_WASM_BASE64, ADAM_SHARED_WASM_BASE64],
} as const;

/** A module compiled for an ordinary or a shared memory; null without wasm SIMD (the JS loops run). */
function compiledModule(name: keyof typeof SOURCES, shared: boolean): object | null {
  return compiledKernel(SOURCES[name][shared ? 1 : 0]);
}

/** The kernel module for an ordinary or a shared memory, compiled on first use. */
export function simdModule(shared = false): object | null {
  return compiledModule('simd', shared);
}

/** The training kernels (src/kernels/adam.wat) bound to `memory`; they import Math.exp for the sigmoid (the same function the JS loops call). */
function trainKernels(memory: WasmMemory): TrainKernelExports {
  const mod = compiledModule('adam', memory.buffer instanceof SharedArrayBuffer)!;
  return instantiateKernel<TrainKernelExports>(mod, memory, { exp: Math.exp });
}

/** Bytes of a rows × cols table in training: each float's value, gradient and AdamW's two moments. */
export function trainingBytes(rows: number, cols: number): number {
  return rows * cols * 16;
}

/** Float64 catch-up scalars of one row of an AdamW step (see TrainKernelExports.adamwRows). */
export const ROW_SCALARS = 5;

/**
 * Training state of embedding tables ({@link trainingBytes}) up to this size stays in the last-level cache: a
 * batch's rows are cheap to reach, so a second thread costs more in hand-offs than it saves, and the order of the
 * ratings needs no blocking (see CollabLearnerOptions.blocks).
 */
export const CACHE_FIT_BYTES = 24 * 2 ** 20;

/** Byte size of an array of n floats, padded to a multiple of 4 floats so each starts 16-byte aligned for v128 loads. */
function strideOf(n: number): number {
  return Math.ceil(n / 4) * 16;
}

/**
 * Threads that can step rows of one table at the same time (blocked training, and a batch split between two
 * threads, step disjoint rows of the same tables): each has its own slot of the row list and scalars, and of
 * the batch scratch (a split batch's records take the first, its forward's output the second).
 */
export const SCRATCH_SLOTS = 2;

/** Byte offset of batch scratch slot `slot` (below {@link SCRATCH_SLOTS}) at the end of a param memory. */
export function batchScratchOffset(memory: WasmMemory, slot: number): number {
  return memory.buffer.byteLength - (SCRATCH_SLOTS - slot) * BATCH_BYTES;
}

/** Bytes of one slot of a table's row list and row scalars. */
function slotBytes(rows: number): number {
  return strideOf(rows) + rows * ROW_SCALARS * 8;
}

/** Bytes of one table of n floats in `rows` rows: value, grad and state (two floats each), then the row list and row scalars of every slot. */
function tableBytes(n: number, rows: number): number {
  return 4 * strideOf(n) + SCRATCH_SLOTS * slotBytes(rows);
}

/** Bytes of one slot of batch scratch at the end of every param memory: 1365 ratings of a per-batch kernel's 12-byte records. */
export const BATCH_BYTES = 16384;

/**
 * Allocates tables of `sizes[j]` floats in `rows[j]` rows (default one float per row), each with its value,
 * gradient and AdamW state, one after another in one fixed-size WebAssembly memory (never grown, so the views
 * stay valid) with one kernel instance bound to it; `shared` puts it on a SharedArrayBuffer (worker threads).
 * Undefined when the kernels are unavailable or the tables exceed 4 GiB.
 */
export function paramMemories(sizes: readonly number[], shared = false, rows: readonly number[] = sizes): ParamMemory[] | undefined {
  if (!compiledModule('adam', shared)) return undefined;
  const bytes = sizes.reduce((sum, n, j) => sum + tableBytes(n, rows[j]!), 0) + SCRATCH_SLOTS * BATCH_BYTES;
  // a 32-bit memory holds at most 4 GiB: larger tables keep plain typed arrays and the JS loops
  const memory = fixedMemory(bytes, shared);
  if (!memory) return undefined;
  const exports = trainKernels(memory);
  let base = 0;
  return sizes.map((n, j) => {
    const mem = viewsAt(memory, exports, n, rows[j]!, base, 0);
    base += tableBytes(n, rows[j]!);
    return mem;
  });
}

/** A zeroed, fixed-size WebAssembly memory of at least `bytes` bytes with a kernel instance bound to it (a model's batch scratch); undefined without wasm SIMD. */
export function scratchKernels(bytes: number): { memory: WasmMemory; exports: SimdKernelExports } | undefined {
  const mod = simdModule(false);
  const memory = mod ? fixedMemory(bytes, false) : undefined;
  return memory ? { memory, exports: instantiateKernel<SimdKernelExports>(mod!, memory) } : undefined;
}

/** A zeroed, fixed-size shared WebAssembly memory of at least `bytes` bytes (it can be posted to worker threads); undefined without wasm SIMD or beyond 4 GiB. */
export function sharedKernelMemory(bytes: number): WasmMemory | undefined {
  return simdModule(true) ? fixedMemory(bytes, true) : undefined;
}

/** A fresh kernel instance over an existing memory (each thread binds its own). */
export function bindKernels(memory: WasmMemory): SimdKernelExports {
  return instantiateKernel<SimdKernelExports>(simdModule(memory.buffer instanceof SharedArrayBuffer)!, memory);
}

/** One table of n floats in `rows` rows (default n) in its own memory (see {@link paramMemories}). */
export function paramMemory(n: number, shared = false, rows = n): ParamMemory | undefined {
  return paramMemories([n], shared, [rows])?.[0];
}

/**
 * Views and a fresh kernel instance over a table of n floats in `rows` rows at byte `base` of an existing memory
 * (a worker thread's side of a shared one), using scratch slot `slot` (below {@link SCRATCH_SLOTS}; another
 * thread that steps the same table meanwhile uses another).
 */
export function bindParamMemory(memory: WasmMemory, n: number, rows: number, base: number, slot = 0): ParamMemory {
  return viewsAt(memory, trainKernels(memory), n, rows, base, slot);
}

function viewsAt(memory: WasmMemory, exports: TrainKernelExports, n: number, rows: number, base: number, scratch: number): ParamMemory {
  const stride = strideOf(n);
  const view = (slot: number, length = n) => new Float32Array(memory.buffer, base + slot * stride, length);
  const listOffset = base + 4 * stride + scratch * slotBytes(rows);
  const scOffset = listOffset + strideOf(rows);
  return {
    value: view(0),
    grad: view(1),
    kernel: {
      memory,
      length: n,
      exports,
      valueOffset: base,
      gradOffset: base + stride,
      stateOffset: base + 2 * stride,
      listOffset,
      scOffset,
      batchOffset: batchScratchOffset(memory, scratch),
      state: view(2, 2 * n),
      list: new Int32Array(memory.buffer, listOffset, rows),
      sc: new Float64Array(memory.buffer, scOffset, rows * ROW_SCALARS),
    },
  };
}
