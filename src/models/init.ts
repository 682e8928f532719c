import type { RandomState } from '../core/random.js';
import { paramMemories } from '../kernels/param-memory.js';
import { Grad, type Param } from './model.js';

/**
 * Fills `w` with PyTorch's `normal_().fmod_(2).mul_(std)` (fastai's trunc_normal_): a standard normal
 * draw wrapped into (-2, 2) by a sign-keeping remainder, then scaled. Draws come from `rng` in order.
 */
export function truncNormal(w: Float32Array, rng: RandomState, std = 0.01): void {
  for (let j = 0; j < w.length; j++) {
    const z = rng.normal();
    // fmod keeps the sign of z: z - trunc(z / 2) * 2
    w[j] = (z % 2) * std;
  }
}

/** Fills `w` with uniform draws from [lo, hi) (the blog's EmbeddingDot uses uniform(0, 0.05)). */
export function uniform(w: Float32Array, rng: RandomState, lo: number, hi: number): void {
  const span = hi - lo;
  for (let j = 0; j < w.length; j++) w[j] = lo + span * rng.random();
}

/** Fills `w` with normal(0, std) draws (Surprise's SVD init). */
export function normal(w: Float32Array, rng: RandomState, std: number): void {
  for (let j = 0; j < w.length; j++) w[j] = rng.normal() * std;
}

/** A Float32Array of n zeros, on a SharedArrayBuffer when `shared` (so worker threads can update it). */
export function table(n: number, shared = false): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}

/** Shape and flags of one learnable table, for {@link makeParams}. */
export interface ParamSpec {
  name: string;
  rows: number;
  cols: number;
  sparse: boolean;
  /** Whether weight decay applies. Default true. */
  decay?: boolean;
}

/**
 * Learnable tables with zeroed gradient buffers (values are filled by the model's init), all in one WebAssembly
 * memory with the SIMD kernels bound to it (so a per-rating kernel can read several of them); `shared` makes
 * that memory shared (worker threads). Plain typed arrays only where this runtime cannot compile the kernels.
 */
export function makeParams(specs: readonly ParamSpec[], shared = false): Param[] {
  const mems = paramMemories(specs.map((s) => s.rows * s.cols), shared, specs.map((s) => s.rows));
  return specs.map((s, j) => {
    const { name, rows, cols, sparse } = s;
    const decay = s.decay ?? true;
    const mem = mems?.[j];
    if (mem) return { name, rows, cols, value: mem.value, grad: new Grad(rows, cols, shared, mem.grad), sparse, decay, kernel: mem.kernel };
    return { name, rows, cols, value: table(rows * cols, shared), grad: new Grad(rows, cols, shared), sparse, decay };
  });
}

/** One learnable table in its own memory (see {@link makeParams}). */
export function makeParam(name: string, rows: number, cols: number, sparse: boolean, decay = true, shared = false): Param {
  return makeParams([{ name, rows, cols, sparse, decay }], shared)[0]!;
}
