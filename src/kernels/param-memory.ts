import { OPTIMIZER_WASM_BASE64 } from './optimizer-wasm.js';

/** The functions of the optimizer kernel module (src/kernels/optimizer.wat); pointers are byte offsets. */
export interface OptimizerKernelExports {
  /** One AdamW row update over n floats (see the .wat for the equations); zeroes the gradient it reads. */
  adamwRow(
    w: number, g: number, m: number, v: number, r: number, n: number,
    b1m: number, b2v: number, c1: number, c2: number, isb: number, eps: number,
    keepA: number, keepC: number, step: number,
  ): void;
}

/**
 * A Param's own WebAssembly memory, laid out as [value | grad | m | v | r] (each 16-byte aligned), and the
 * kernel instance bound to it. m, v and r are an AdamW's state; the first optimizer built over the param
 * claims them (`owner`), any later one keeps its own arrays and the JS loop.
 */
export interface ParamKernel {
  readonly exports: OptimizerKernelExports;
  /** Byte offsets of value, grad, m, v and r in the memory. */
  readonly valueOffset: number;
  readonly gradOffset: number;
  readonly mOffset: number;
  readonly vOffset: number;
  readonly rOffset: number;
  /** Optimizer state views: first moment, second moment, last update direction. */
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly r: Float32Array;
  /** The optimizer that uses m, v and r, once one has claimed them. */
  owner?: object;
}

/** The few WebAssembly APIs used here (the project's lib settings declare no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The compiled module, once per process; null when this runtime cannot compile it (no SIMD): the JS loops run. */
let compiled: object | null | undefined;

/** The optimizer kernel module, compiled on first use. */
export function optimizerModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(Buffer.from(OPTIMIZER_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Allocates n floats of value, gradient and AdamW state in one fixed-size WebAssembly memory (never grown, so
 * the views stay valid) with the kernels bound to it; undefined when the kernels are unavailable.
 */
export function paramMemory(n: number): { value: Float32Array; grad: Float32Array; kernel: ParamKernel } | undefined {
  const mod = optimizerModule();
  if (!mod) return undefined;
  // each array padded to a multiple of 4 floats, so every one starts 16-byte aligned for v128 loads
  const stride = Math.ceil(n / 4) * 16;
  const pages = Math.ceil((5 * stride) / 65536);
  const memory = new wasm.Memory({ initial: pages, maximum: pages });
  const instance = new wasm.Instance(mod, { env: { memory } });
  const buf = memory.buffer;
  const view = (slot: number) => new Float32Array(buf, slot * stride, n);
  return {
    value: view(0),
    grad: view(1),
    kernel: {
      exports: instance.exports as unknown as OptimizerKernelExports,
      valueOffset: 0,
      gradOffset: stride,
      mOffset: 2 * stride,
      vOffset: 3 * stride,
      rOffset: 4 * stride,
      m: view(2),
      v: view(3),
      r: view(4),
    },
  };
}
