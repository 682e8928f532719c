import { scratchKernels, type SimdKernelExports, type WasmMemory } from '../kernels/param-memory.js';

/**
 * Scores of a block of users against every item of a factor model at once, on the scoreItems4 kernel
 * (src/kernels/simd.wat):  s[u, i] = init[u] + bi[i] + Σ_f P[u, f] Q[i, f],  each entry its own float64 chain
 * in f order, so every score is bit for bit what the per-user JS loop computes (a float32 product is exact in
 * float64): recommendations for all users equal recommendations one user at a time.
 * The item table is copied once, as float64 in groups of four items; users come in blocks of `blockSize`.
 */
export class FactorBlockScorer {
  private readonly exports: SimdKernelExports;
  private readonly memory: WasmMemory;
  private readonly groups: number;
  private readonly qOff: number;
  private readonly biOff: number;
  private readonly pOff: number;
  private readonly initOff: number;
  private readonly outOff: number;
  /** Entries per row of {@link score}'s result (nItems rounded up to a multiple of 4). */
  readonly stride: number;

  private constructor(
    kernels: { memory: WasmMemory; exports: SimdKernelExports },
    readonly nItems: number,
    readonly k: number,
    readonly blockSize: number,
  ) {
    this.exports = kernels.exports;
    this.memory = kernels.memory;
    this.groups = Math.ceil(nItems / 4);
    this.stride = 4 * this.groups;
    const layout = FactorBlockScorer.layout(nItems, k, blockSize);
    this.qOff = 0;
    this.biOff = layout.bi;
    this.pOff = layout.p;
    this.initOff = layout.init;
    this.outOff = layout.out;
  }

  private static layout(nItems: number, k: number, blockSize: number): { bi: number; p: number; init: number; out: number; bytes: number } {
    const n4 = 4 * Math.ceil(nItems / 4);
    const bi = 8 * n4 * k;
    const p = bi + 8 * n4;
    const init = p + 8 * blockSize * k;
    const out = init + 8 * blockSize;
    return { bi, p, init, out, bytes: out + 8 * blockSize * n4 };
  }

  /** A scorer over item factors Q (nItems × k) and item biases, or undefined when WebAssembly SIMD is unavailable or the tables exceed its memory. */
  static create(Q: Float32Array, k: number, bi: Float32Array | undefined, blockSize = 32): FactorBlockScorer | undefined {
    const nItems = Q.length / k;
    const kernels = scratchKernels(FactorBlockScorer.layout(nItems, k, blockSize).bytes);
    if (!kernels) return undefined;
    const s = new FactorBlockScorer(kernels, nItems, k, blockSize);
    const f = new Float64Array(kernels.memory.buffer);
    // group g, factor f, lane l at (g·k + f)·4 + l: item 4g + l
    for (let i = 0; i < nItems; i++) {
      const base = Math.floor(i / 4) * k * 4 + (i % 4);
      const iRow = i * k;
      for (let t = 0; t < k; t++) f[base + t * 4] = Q[iRow + t]!;
    }
    if (bi) for (let i = 0; i < nItems; i++) f[s.biOff / 8 + i] = bi[i]!;
    return s;
  }

  /**
   * Scores users[0..nb) (rows of P, nb ≤ blockSize) with init[b] = offset + b_u: returns a view whose row b
   * (stride {@link stride}) holds s[b, i]; valid until the next call.
   */
  score(P: Float32Array, users: Int32Array, init: Float64Array): Float64Array {
    const { k, blockSize } = this;
    const nb = users.length;
    if (nb > blockSize) throw new RangeError(`a block holds at most ${blockSize} users, got ${nb}`);
    const f = new Float64Array(this.memory.buffer);
    const p0 = this.pOff / 8;
    for (let b = 0; b < nb; b++) {
      const uRow = users[b]! * k;
      for (let t = 0; t < k; t++) f[p0 + b * k + t] = P[uRow + t]!;
      f[this.initOff / 8 + b] = init[b]!;
    }
    this.exports.scoreItems4(this.outOff, this.pOff, this.qOff, this.initOff, this.biOff, nb, this.groups, k);
    return f.subarray(this.outOff / 8, this.outOff / 8 + nb * this.stride);
  }
}
