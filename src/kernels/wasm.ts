/**
 * What every kernel module (src/kernels/<name>.wat) needs from WebAssembly: its bytes compiled once per process,
 * a fixed-size memory, and an instance bound to a memory. One place, so each kernel family's loader states only
 * its own exports and layout.
 */

/** A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** The few WebAssembly APIs used here (the project's lib settings declare no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Pages (64 KiB) a 32-bit WebAssembly memory can hold. */
const MAX_PAGES = 65536;

/** Bytes a 32-bit WebAssembly memory can hold (4 GiB). */
export const MAX_WASM_BYTES = MAX_PAGES * 65536;

/** Compiled modules by their base64 bytes; null where this runtime cannot compile them (no SIMD): the JS loops run. */
const compiled = new Map<string, object | null>();

/** A generated module's bytes (a `<NAME>_WASM_BASE64` constant) compiled on first use; null without wasm SIMD. */
export function compiledKernel(base64: string): object | null {
  let mod = compiled.get(base64);
  if (mod === undefined) {
    try {
      mod = new wasm.Module(Buffer.from(base64, 'base64'));
    } catch {
      mod = null;
    }
    compiled.set(base64, mod);
  }
  return mod;
}

/** A zeroed memory of at least `bytes` bytes that never grows (so typed-array views over it stay valid); undefined beyond 4 GiB. */
export function fixedMemory(bytes: number, shared: boolean): WasmMemory | undefined {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (pages > MAX_PAGES) return undefined;
  return new wasm.Memory({ initial: pages, maximum: pages, shared });
}

/** A fresh instance of a compiled kernel module over `memory` (each thread binds its own), with extra `env` imports. */
export function instantiateKernel<T>(module: object, memory: WasmMemory, imports: Record<string, unknown> = {}): T {
  return new wasm.Instance(module, { env: { memory, ...imports } }).exports as T;
}
