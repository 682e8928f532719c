import { scratchKernels, type SimdKernelExports } from '../kernels/param-memory.js';

/**
 * The movies a pick head's softmax runs over (models/pick-head), laid out once for the two products a
 * fold-in repeats: every candidate's score s_c = b_c + p·q_c, and a weighted sum of their rows Σ_c w_c q_c.
 * With wasm SIMD both are the f32x4 kernels EmbeddingNN's layers use, over a float32 copy of the rows
 * padded to whole lanes (about 4x the JS loops, which remain when wasm is unavailable or `kernels: 'js'`).
 * Build one per model and reuse it: the copy costs one pass over the table.
 */
export class SoftmaxTable {
  /** Candidates (dense item indices), in table order. */
  readonly candidates: Int32Array;
  readonly k: number;
  private readonly dp: number;
  private readonly simd: SimdKernelExports | undefined;
  private readonly at = { w: 0, bias: 0, x: 0, z: 0, dz: 0, dx: 0, idx: 0, val: 0 };
  /** Rows (size × dp), biases, and the kernels' vectors: views of the wasm memory, or plain arrays for the JS loops. */
  private readonly W: Float32Array;
  private readonly bias: Float32Array;
  private readonly x: Float32Array;
  private readonly z: Float32Array;
  private readonly dz: Float32Array;
  private readonly dx: Float32Array;

  constructor(itemFactors: Float32Array, itemBias: Float32Array, k: number, candidates?: Int32Array, kernels: 'wasm' | 'js' = 'wasm') {
    const C = candidates ?? Int32Array.from({ length: itemBias.length }, (_, i) => i);
    this.candidates = C;
    this.k = k;
    const dp = (this.dp = Math.ceil(k / 4) * 4);
    const n = C.length;
    // floats per operand, in order: W, bias, x, z, dz, dx, idx, val
    const sizes = [n * dp, n, dp, n, n, dp, n, n];
    const padded = (m: number): number => Math.ceil(m / 4) * 16;
    const sk = kernels === 'wasm' ? scratchKernels(sizes.reduce((sum, m) => sum + padded(m), 0)) : undefined;
    const views: Float32Array[] = [];
    if (sk) {
      this.simd = sk.exports;
      let base = 0;
      const names = ['w', 'bias', 'x', 'z', 'dz', 'dx', 'idx', 'val'] as const;
      sizes.forEach((m, j) => {
        this.at[names[j]!] = base;
        views.push(new Float32Array(sk.memory.buffer, base, m));
        base += padded(m);
      });
    } else {
      for (const m of sizes.slice(0, 6)) views.push(new Float32Array(m));
    }
    [this.W, this.bias, this.x, this.z, this.dz, this.dx] = views as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    for (let c = 0; c < n; c++) {
      const j = C[c]!;
      this.bias[c] = itemBias[j]!;
      for (let f = 0; f < k; f++) this.W[c * dp + f] = itemFactors[j * k + f]!;
    }
  }

  /** Number of candidates. */
  get size(): number {
    return this.candidates.length;
  }

  /** s_c = b_c + p·q_c for every candidate into s; returns ln Σ_c exp s_c. */
  scores(p: ArrayLike<number>, s: Float64Array): number {
    const { k, dp, W, bias, z } = this;
    const n = this.size;
    if (this.simd) {
      for (let f = 0; f < k; f++) this.x[f] = p[f]!;
      this.simd.nnForward(this.at.x, this.at.w, this.at.bias, this.at.z, 1, dp, n);
      for (let c = 0; c < n; c++) s[c] = z[c]!;
    } else {
      for (let c = 0; c < n; c++) {
        let v = bias[c]!;
        for (let f = 0; f < k; f++) v += p[f]! * W[c * dp + f]!;
        s[c] = v;
      }
    }
    let max = -Infinity;
    for (let c = 0; c < n; c++) if (s[c]! > max) max = s[c]!;
    let sum = 0;
    for (let c = 0; c < n; c++) sum += Math.exp(s[c]! - max);
    return max + Math.log(sum);
  }

  /** out = Σ_c w_c q_c over the candidates (k values). */
  weighted(w: Float64Array, out: Float64Array): void {
    const { k, dp, W, dx } = this;
    const n = this.size;
    if (this.simd) {
      for (let c = 0; c < n; c++) this.dz[c] = w[c]!;
      this.simd.nnGradX(this.at.dz, this.at.w, this.at.dx, 1, dp, n, this.at.idx, this.at.val);
      for (let f = 0; f < k; f++) out[f] = dx[f]!;
      return;
    }
    out.fill(0, 0, k);
    for (let c = 0; c < n; c++) {
      const wc = w[c]!;
      if (wc === 0) continue;
      for (let f = 0; f < k; f++) out[f] += wc * W[c * dp + f]!;
    }
  }
}
