import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CollabError, requireInt } from '../core/errors.js';
import { startWorker } from '../core/worker-argv.js';
import { bindKernels, MAX_WASM_BYTES, sharedKernelMemory, type SimdKernelExports, type WasmMemory } from '../kernels/param-memory.js';

/**
 * Dense symmetric positive definite inverse in float64, blocked, on WebAssembly SIMD kernels and worker threads.
 *
 *   A = L Lᵀ (Cholesky),   W = L⁻¹,   A⁻¹ = Wᵀ W
 *
 * All three stages are cut into nb × nb blocks so that nearly all the work is one kernel, gemmNT
 * (C += α A Bᵀ over rows read along p, src/kernels/simd.wat), and the rest (triangles inside one block)
 * costs O(n² nb). The matrices live in one shared WebAssembly memory: L over A itself, then Wt = Wᵀ (upper
 * triangular) beside it, and the inverse over L once L is no longer needed: 2 · 8n² bytes.
 * Threads (the caller's and `threads - 1` workers) take tasks from a shared counter; stages and the
 * Cholesky's block columns are separated by barriers. Results do not depend on the number of threads:
 * every entry is computed by the same operations in the same order whoever computes it.
 *   Cholesky, block column J (left-looking): A[J, J] -= L[J, <J] L[J, <J]ᵀ, factor it (the caller's thread),
 *     then each row block I > J: A[I, J] -= L[I, <J] L[J, <J]ᵀ and L[I, J] = A[I, J] L[J, J]⁻ᵀ.
 *   Triangular inverse, row j of Wt depends only on L and on row j itself:
 *     Wt_ji = W_ij = -(Σ_{m=j}^{i-1} L_im Wt_jm) / L_ii,  Wt_jj = 1 / L_jj, one task per row block.
 *   Product, block pairs I ≤ J: (A⁻¹)[I, J] = Wt[I, ≥j0] Wt[J, ≥j0]ᵀ (Wt is zero left of its diagonal),
 *     mirrored into [J, I].
 */

/** Options of {@link DenseSpdInverse}. */
export interface DenseSpdOptions {
  /** Threads that share the work (the caller's plus worker threads). Default: min(2, available cores); 1 below 256 rows (starting a worker costs more). */
  threads?: number;
  /** Block size nb (rows and columns per block, a multiple of 16). Default 64. */
  block?: number;
}

/** Columns of A and B per gemmNT call: a block's rows of that length stay in the L2 cache. */
const K_CHUNK = 256;

/** Control words shared with the workers (an Int32Array on a SharedArrayBuffer). */
const GEN = 0; // bumped by the caller to start a stage
const DONE = 1; // workers that finished the current stage
const OP = 2; // the stage
const NEXT = 3; // the next unclaimed task
const PARAM = 4; // the stage's parameter (the block column of a Cholesky step)
const FAILED = 5; // 1 when a worker's task threw (message in the failure bytes)
const READY = 6; // workers that are running
const CTL_WORDS = 8;
const FAILURE_BYTES = 1024;

/** Stages (OP). */
const OP_CHOLESKY_ROWS = 1;
const OP_TRIANGULAR_INVERSE = 2;
const OP_PRODUCT = 3;
const OP_QUIT = 4;

/** Bytes of WebAssembly memory an inverse of order n takes (L and Wt, float64). */
export function denseSpdBytes(n: number): number {
  return 2 * 8 * n * n;
}

/** What every thread needs to run tasks: the memory's float64 view and a kernel instance bound to it. */
export interface DenseContext {
  n: number;
  nb: number;
  f: Float64Array;
  ex: SimdKernelExports;
  /** Element offset of Wt (L and then the inverse start at 0). */
  wt: number;
}

/** What a worker thread is started with. */
export interface DenseWorkerData {
  memory: WasmMemory;
  ctl: Int32Array;
  failure: Uint8Array;
  n: number;
  nb: number;
}

/** Binds a thread to the shared memory. */
export function denseContext(memory: WasmMemory, n: number, nb: number): DenseContext {
  return { n, nb, f: new Float64Array(memory.buffer, 0, 2 * n * n), ex: bindKernels(memory), wt: n * n };
}

/** C += α A Bᵀ with element offsets into the memory, all of stride n, k cut into cache-sized chunks. */
function gemm(ctx: DenseContext, c: number, a: number, b: number, m: number, cols: number, k: number, alpha: number): void {
  const n = ctx.n;
  for (let p = 0; p < k; p += K_CHUNK) {
    const kc = Math.min(K_CHUNK, k - p);
    ctx.ex.gemmNT(c * 8, (a + p) * 8, (b + p) * 8, m, cols, kc, n, n, n, alpha);
  }
}

/** Cholesky of diagonal block J after the updates by the columns left of it (the caller's thread: the next step needs it). */
function choleskyDiagonal(ctx: DenseContext, J: number): void {
  const { n, nb, f } = ctx;
  const j0 = J * nb;
  const j1 = Math.min(n, j0 + nb);
  gemm(ctx, j0 * n + j0, j0 * n, j0 * n, j1 - j0, j1 - j0, j0, -1);
  // L_jj = sqrt(A_jj - Σ_{m=j0}^{j-1} L_jm²);  L_ij = (A_ij - Σ_{m=j0}^{j-1} L_im L_jm) / L_jj for j < i < j1
  for (let j = j0; j < j1; j++) {
    const jRow = j * n;
    let s = f[jRow + j]!;
    for (let m = j0; m < j; m++) s -= f[jRow + m]! * f[jRow + m]!;
    if (!(s > 0)) {
      throw new CollabError('INVALID_OPTION', `matrix is not positive definite (pivot ${j} is ${s}); raise the ridge weight lambda`, { field: 'lambda' });
    }
    const d = Math.sqrt(s);
    f[jRow + j] = d;
    for (let i = j + 1; i < j1; i++) {
      const iRow = i * n;
      let t = f[iRow + j]!;
      for (let m = j0; m < j; m++) t -= f[iRow + m]! * f[jRow + m]!;
      f[iRow + j] = t / d;
    }
  }
}

/** Columns solved at a time inside a block: the rest of a block's triangle goes through gemmNT too, so the scalar loops cost O(n² SUB). */
const SUB = 16;

/** Row block I of block column J (I > J): update by the columns left of J, then solve against L[J, J]. */
function choleskyRows(ctx: DenseContext, I: number, J: number): void {
  const { n, nb, f } = ctx;
  const i0 = I * nb;
  const i1 = Math.min(n, i0 + nb);
  const j0 = J * nb;
  const j1 = j0 + nb;
  gemm(ctx, i0 * n + j0, i0 * n, j0 * n, i1 - i0, nb, j0, -1);
  // L_ij = (A_ij - Σ_{m=j0}^{j-1} L_im L_jm) / L_jj, SUB columns at a time: the terms m < s0 by gemmNT, the rest here
  for (let s0 = j0; s0 < j1; s0 += SUB) {
    const s1 = s0 + SUB;
    if (s0 > j0) gemm(ctx, i0 * n + s0, i0 * n + j0, s0 * n + j0, i1 - i0, SUB, s0 - j0, -1);
    for (let i = i0; i < i1; i++) {
      const iRow = i * n;
      for (let j = s0; j < s1; j++) {
        const jRow = j * n;
        let t = f[iRow + j]!;
        for (let m = s0; m < j; m++) t -= f[iRow + m]! * f[jRow + m]!;
        f[iRow + j] = t / f[jRow + j]!;
      }
    }
  }
}

/** Rows of block J of Wt = (L⁻¹)ᵀ, one column block I ≥ J at a time (Wt starts zeroed). */
function triangularInverseRows(ctx: DenseContext, J: number): void {
  const { n, nb, f, wt } = ctx;
  const j0 = J * nb;
  const j1 = Math.min(n, j0 + nb);
  for (let i0 = j0; i0 < n; i0 += nb) {
    const i1 = Math.min(n, i0 + nb);
    // Wt[J, I] = -Σ_{m ∈ [j0, i0)} Wt[J, m] L[I, m]ᵀ
    if (i0 > j0) gemm(ctx, wt + j0 * n + i0, wt + j0 * n + j0, i0 * n + j0, j1 - j0, i1 - i0, i0 - j0, -1);
    // then the terms m ∈ [i0, i): those left of the SUB columns by gemmNT (Wt_jm = 0 for m < j keeps it exact),
    // the rest here, i ascending so Wt_jm is ready
    for (let s0 = i0; s0 < i1; s0 += SUB) {
      const s1 = Math.min(i1, s0 + SUB);
      if (s0 > i0) gemm(ctx, wt + j0 * n + s0, wt + j0 * n + i0, s0 * n + i0, j1 - j0, s1 - s0, s0 - i0, -1);
      for (let i = s0; i < s1; i++) {
        const iRow = i * n;
        const inv = 1 / f[iRow + i]!;
        const jEnd = Math.min(j1, i + 1);
        for (let j = j0; j < jEnd; j++) {
          const jRow = wt + j * n;
          if (j === i) {
            f[jRow + i] = inv;
            continue;
          }
          let t = f[jRow + i]!;
          for (let m = Math.max(j, s0); m < i; m++) t -= f[iRow + m]! * f[jRow + m]!;
          f[jRow + i] = t * inv;
        }
      }
    }
  }
}

/** The block pair of product task t: pairs (I, J), I ≤ J, listed by J then I. */
function pairOf(t: number): [number, number] {
  // t = J(J+1)/2 + I
  let J = Math.floor((Math.sqrt(8 * t + 1) - 1) / 2);
  while (((J + 1) * (J + 2)) / 2 <= t) J++;
  while ((J * (J + 1)) / 2 > t) J--;
  return [t - (J * (J + 1)) / 2, J];
}

/** Block (I, J), I ≤ J, of the inverse Wᵀ W over L's place, mirrored into (J, I). */
function productBlock(ctx: DenseContext, I: number, J: number): void {
  const { n, nb, f, wt } = ctx;
  const i0 = I * nb;
  const i1 = Math.min(n, i0 + nb);
  const j0 = J * nb;
  const j1 = Math.min(n, j0 + nb);
  for (let i = i0; i < i1; i++) f.fill(0, i * n + j0, i * n + j1);
  gemm(ctx, i0 * n + j0, wt + i0 * n + j0, wt + j0 * n + j0, i1 - i0, j1 - j0, n - j0, 1);
  if (I === J) return;
  for (let i = i0; i < i1; i++) {
    const iRow = i * n;
    for (let j = j0; j < j1; j++) f[j * n + i] = f[iRow + j]!;
  }
}

/** Number of tasks of a stage. */
function taskCount(op: number, nBlocks: number, param: number): number {
  if (op === OP_CHOLESKY_ROWS) return nBlocks - 1 - param;
  if (op === OP_TRIANGULAR_INVERSE) return nBlocks;
  return (nBlocks * (nBlocks + 1)) / 2;
}

/** Claims and runs tasks of the current stage until none is left (every thread, the caller's too). */
export function runTasks(ctx: DenseContext, ctl: Int32Array): void {
  const op = Atomics.load(ctl, OP);
  const param = Atomics.load(ctl, PARAM);
  const nBlocks = Math.ceil(ctx.n / ctx.nb);
  const count = taskCount(op, nBlocks, param);
  for (;;) {
    const t = Atomics.add(ctl, NEXT, 1);
    if (t >= count) return;
    if (op === OP_CHOLESKY_ROWS) choleskyRows(ctx, param + 1 + t, param);
    else if (op === OP_TRIANGULAR_INVERSE) triangularInverseRows(ctx, t);
    else {
      const [I, J] = pairOf(t);
      productBlock(ctx, I, J);
    }
  }
}

/** The worker side: waits for stages and runs their tasks until told to quit. */
export function serveDenseWorker(data: DenseWorkerData): void {
  const { ctl, failure } = data;
  const ctx = denseContext(data.memory, data.n, data.nb);
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  let gen = 0;
  for (;;) {
    waitWhile(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (Atomics.load(ctl, OP) === OP_QUIT) return;
    try {
      runTasks(ctx, ctl);
    } catch (err) {
      const bytes = new TextEncoder().encode(err instanceof Error ? err.message : String(err)).subarray(0, FAILURE_BYTES);
      failure.set(bytes);
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}

/** Spins, then sleeps, while ctl[index] === value. */
function waitWhile(ctl: Int32Array, index: number, value: number): void {
  for (let s = 0; s < 20000; s++) if (Atomics.load(ctl, index) !== value) return;
  while (Atomics.load(ctl, index) === value) Atomics.wait(ctl, index, value, 100);
}

/** Waits until ctl[index] === value, or `ms` have passed; true when it got there. */
function waitFor(ctl: Int32Array, index: number, value: number, ms: number): boolean {
  const end = Date.now() + ms;
  for (;;) {
    const now = Atomics.load(ctl, index);
    if (now === value) return true;
    if (Date.now() > end) return false;
    Atomics.wait(ctl, index, now, 50);
  }
}

/** How long a worker may take to start before the inverse runs on fewer threads (a loaded machine starts them slowly). */
const START_MS = 30000;

/**
 * The inverse of a symmetric positive definite matrix of order n, in place, in a shared WebAssembly memory:
 * fill the lower triangle of {@link matrix} (the upper one is not read), call {@link invert}, read the full
 * symmetric inverse from the same view. Synchronous: the caller's thread blocks while workers help.
 */
export class DenseSpdInverse {
  /** The n × n row-major matrix, then its inverse. */
  readonly matrix: Float64Array;
  private readonly memory: WasmMemory;
  private readonly threads: number;
  private readonly nb: number;

  constructor(readonly n: number, options: DenseSpdOptions = {}) {
    requireInt('n', n, 1);
    this.nb = requireInt('block', options.block ?? 64, SUB);
    if (this.nb % SUB !== 0) throw new CollabError('INVALID_OPTION', `block must be a multiple of ${SUB}, got ${this.nb}`, { field: 'block' });
    const cores = Math.min(2, availableParallelism());
    this.threads = requireInt('threads', options.threads ?? (n < 256 ? 1 : cores), 1);
    const bytes = denseSpdBytes(n);
    const memory = bytes <= MAX_WASM_BYTES ? sharedKernelMemory(bytes) : undefined;
    if (memory === undefined) {
      throw new CollabError(
        'INVALID_OPTION',
        `a dense inverse of order ${n} needs ${formatBytes(bytes)} of WebAssembly memory, more than its 4 GiB address space (order ${Math.floor(Math.sqrt(MAX_WASM_BYTES / 16))} at most)`,
        { field: 'n' },
      );
    }
    this.memory = memory;
    this.matrix = new Float64Array(memory.buffer, 0, n * n);
  }

  /** Replaces {@link matrix} by its inverse (returned, the same view). Throws when it is not positive definite. */
  invert(): Float64Array {
    const { n, nb } = this;
    const ctx = denseContext(this.memory, n, nb);
    const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
    const failure = new Uint8Array(new SharedArrayBuffer(FAILURE_BYTES));
    const workers: Worker[] = [];
    const data: DenseWorkerData = { memory: this.memory, ctl, failure, n, nb };
    for (let w = 1; w < this.threads; w++) {
      const worker = startWorker(new URL('./dense-worker.js', import.meta.url), data);
      if (worker === undefined) break;
      workers.push(worker);
    }
    for (const w of workers) w.unref();
    let nWorkers = workers.length;
    if (nWorkers > 0 && !waitFor(ctl, READY, nWorkers, START_MS)) {
      // run alone rather than wait on a worker that never started; those that did start simply quit
      nWorkers = 0;
    }
    let gen = 0;
    const stage = (op: number, param: number): void => {
      Atomics.store(ctl, OP, op);
      Atomics.store(ctl, PARAM, param);
      Atomics.store(ctl, NEXT, 0);
      Atomics.store(ctl, DONE, 0);
      if (nWorkers > 0) {
        Atomics.store(ctl, GEN, ++gen);
        Atomics.notify(ctl, GEN);
      }
      if (op === OP_QUIT) return;
      runTasks(ctx, ctl);
      if (nWorkers > 0) waitFor(ctl, DONE, nWorkers, Infinity);
      if (Atomics.load(ctl, FAILED) === 1) {
        const text = new TextDecoder().decode(failure).replace(/\0+$/, '');
        throw new Error(`a linear algebra worker failed: ${text}`);
      }
    };
    try {
      const nBlocks = Math.ceil(n / nb);
      for (let J = 0; J < nBlocks; J++) {
        choleskyDiagonal(ctx, J);
        if (J + 1 < nBlocks) stage(OP_CHOLESKY_ROWS, J);
      }
      stage(OP_TRIANGULAR_INVERSE, 0);
      stage(OP_PRODUCT, 0);
    } finally {
      if (workers.length > 0) {
        Atomics.store(ctl, OP, OP_QUIT);
        Atomics.store(ctl, GEN, gen + 1);
        Atomics.notify(ctl, GEN);
        for (const w of workers) void w.terminate();
      }
    }
    return this.matrix;
  }
}

/** Inverse of a symmetric positive definite n × n matrix (row-major float64; only its lower triangle is read); `A` is left as it was. */
export function spdInverse(A: Float64Array, n: number, options: DenseSpdOptions = {}): Float64Array {
  if (A.length !== n * n) throw new CollabError('INVALID_OPTION', `matrix has ${A.length} entries, not ${n}×${n}`, { field: 'A' });
  const inv = new DenseSpdInverse(n, options);
  inv.matrix.set(A);
  return Float64Array.from(inv.invert());
}

/** A byte count for messages: "1.4 GB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1e3)} kB`;
}
