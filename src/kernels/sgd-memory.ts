import { SGD_SHARED_WASM_BASE64, SGD_WASM_BASE64 } from './sgd-wasm.js';
import { compiledKernel, fixedMemory, instantiateKernel, type WasmMemory } from './wasm.js';

/** The function of the SGD kernel module (src/kernels/sgd.wat); pointers are byte offsets into its memory. */
export interface SgdKernelExports {
  /** Funk SGD over ratings [start, end) of the columns (see the .wat); returns the sum of squared errors before each update. */
  sgdRange(
    P: number, Q: number, bu: number, bi: number, users: number, items: number, ratings: number,
    start: number, end: number, kp: number, mu: number, lr: number, reg: number,
  ): number;
}

/**
 * Where everything lives in an SGD kernel memory (byte offsets): the factor tables with rows padded to kp
 * floats (a multiple of 4: whole f32x4 lanes, and the padding stays 0 under the update), the bias tables, and
 * the n ratings' user, item and rating columns in training order.
 */
export interface SgdLayout {
  readonly nUsers: number;
  readonly nItems: number;
  readonly k: number;
  readonly kp: number;
  readonly n: number;
  readonly P: number;
  readonly Q: number;
  readonly bu: number;
  readonly bi: number;
  readonly users: number;
  readonly items: number;
  readonly ratings: number;
  readonly bytes: number;
}

/** 16-byte aligned size of `count` 4-byte values. */
function aligned(count: number): number {
  return Math.ceil(count / 4) * 16;
}

/** The layout for nUsers × nItems tables of width k and n ratings. */
export function sgdLayout(nUsers: number, nItems: number, k: number, n: number): SgdLayout {
  const kp = Math.ceil(k / 4) * 4;
  let at = 0;
  const take = (count: number): number => {
    const start = at;
    at += aligned(count);
    return start;
  };
  const P = take(nUsers * kp);
  const Q = take(nItems * kp);
  const bu = take(nUsers);
  const bi = take(nItems);
  const users = take(n);
  const items = take(n);
  const ratings = take(n);
  return { nUsers, nItems, k, kp, n, P, Q, bu, bi, users, items, ratings, bytes: at };
}

/** The SGD module for an ordinary or a shared memory, compiled on first use; null without wasm SIMD. */
function sgdModule(shared: boolean): object | null {
  return compiledKernel(shared ? SGD_SHARED_WASM_BASE64 : SGD_WASM_BASE64);
}

/**
 * A zeroed, fixed-size memory for `layout` (shared: worker threads bind it too) and a kernel instance over it;
 * undefined when this runtime has no wasm SIMD or the layout exceeds a 32-bit memory (4 GiB).
 */
export function sgdMemory(layout: SgdLayout, shared: boolean): { memory: WasmMemory; exports: SgdKernelExports } | undefined {
  const mod = sgdModule(shared);
  const memory = mod ? fixedMemory(layout.bytes, shared) : undefined;
  return memory ? { memory, exports: instantiateKernel<SgdKernelExports>(mod!, memory) } : undefined;
}

/** A fresh SGD kernel instance over an existing memory (a worker thread's own). */
export function bindSgdKernel(memory: WasmMemory): SgdKernelExports {
  return instantiateKernel<SgdKernelExports>(sgdModule(memory.buffer instanceof SharedArrayBuffer)!, memory);
}
