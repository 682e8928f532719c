import type { RandomState } from '../core/random.js';
import { paramMemory } from '../kernels/param-memory.js';
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

/**
 * A learnable table with a zeroed gradient buffer (values are filled by the model's init), in its own
 * WebAssembly memory with the SIMD optimizer kernels bound to it; `shared` makes that memory shared (worker
 * threads). Plain typed arrays only where this runtime cannot compile the kernels.
 */
export function makeParam(name: string, rows: number, cols: number, sparse: boolean, decay = true, shared = false): Param {
  const mem = paramMemory(rows * cols, shared);
  if (mem) return { name, rows, cols, value: mem.value, grad: new Grad(rows, cols, shared, mem.grad), sparse, decay, kernel: mem.kernel };
  return { name, rows, cols, value: table(rows * cols, shared), grad: new Grad(rows, cols, shared), sparse, decay };
}
