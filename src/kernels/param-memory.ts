import { OPTIMIZER_SHARED_WASM_BASE64, OPTIMIZER_WASM_BASE64 } from './optimizer-wasm.js';

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
  /** The WebAssembly.Memory (shared for tables worker threads also step: it can be posted to a worker). */
  readonly memory: WasmMemory;
  /** Floats per array (rows × cols). */
  readonly length: number;
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
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
/** A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The compiled modules (plain and shared memory), once per process; null when this runtime cannot compile them (no SIMD): the JS loops run. */
const compiled: { plain?: object | null; shared?: object | null } = {};

/** The optimizer kernel module for an ordinary or a shared memory, compiled on first use. */
export function optimizerModule(shared = false): object | null {
  const key = shared ? 'shared' : 'plain';
  if (compiled[key] === undefined) {
    try {
      compiled[key] = new wasm.Module(Buffer.from(shared ? OPTIMIZER_SHARED_WASM_BASE64 : OPTIMIZER_WASM_BASE64, 'base64'));
    } catch {
      compiled[key] = null;
    }
  }
  return compiled[key]!;
}

/** Byte size of one of the five arrays of n floats, padded to a multiple of 4 floats so each starts 16-byte aligned for v128 loads. */
function strideOf(n: number): number {
  return Math.ceil(n / 4) * 16;
}

/**
 * Allocates n floats of value, gradient and AdamW state in one fixed-size WebAssembly memory (never grown, so
 * the views stay valid) with the kernels bound to it; `shared` puts it on a SharedArrayBuffer (worker threads).
 * Undefined when the kernels are unavailable.
 */
export function paramMemory(n: number, shared = false): { value: Float32Array; grad: Float32Array; kernel: ParamKernel } | undefined {
  if (!optimizerModule(shared)) return undefined;
  const pages = Math.ceil((5 * strideOf(n)) / 65536);
  return bindParamMemory(new wasm.Memory({ initial: pages, maximum: pages, shared }), n);
}

/** Views and a fresh kernel instance over an existing param memory of n floats (a worker thread's side of a shared one). */
export function bindParamMemory(memory: WasmMemory, n: number): { value: Float32Array; grad: Float32Array; kernel: ParamKernel } {
  const buf = memory.buffer;
  const instance = new wasm.Instance(optimizerModule(buf instanceof SharedArrayBuffer)!, { env: { memory } });
  const stride = strideOf(n);
  const view = (slot: number) => new Float32Array(buf, slot * stride, n);
  return {
    value: view(0),
    grad: view(1),
    kernel: {
      memory,
      length: n,
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
