/**
 * What scoring needs from a factor model, given once by each model ({@link RatingModel.factorScoring}),
 * and the one place its score formula is written:
 *   s_i = offset + b + bi[i] + Σ_f p_f Q[i, f]
 *   score_i = lo + (hi - lo)·sigmoid(s_i) under a y-range, else s_i clipped to [clip lo, clip hi].
 * dot has no biases or offset; dotbias and the hybrid a y-range; mf the global mean as offset and a clip range.
 */
export interface FactorScoring {
  /** Factors per row (k). */
  readonly k: number;
  /** User table, nUsers × k row-major (the hybrid's composed users). */
  readonly P: Float32Array;
  /** Item table, nItems × k row-major (the hybrid's composed movies). */
  readonly Q: Float32Array;
  /** User biases (nUsers); undefined for models without them. */
  readonly bu: Float32Array | undefined;
  /** Item biases (nItems); undefined for models without them. */
  readonly bi: Float32Array | undefined;
  /** Constant added to every raw score (mf's global mean; 0 elsewhere). */
  readonly offset: number;
  /** The sigmoid's output range; undefined when the raw score is clipped instead. */
  readonly yRange: readonly [number, number] | undefined;
  /** Clip range of the raw score when there is no y-range ([-Infinity, Infinity] for none). */
  readonly clip: readonly [number, number];
}

export { linkScore } from '../maths/link.js';

/** Applies the link to raw scores `raw[at .. at + out.length)` into `out`. */
export function finishScores(scoring: Pick<FactorScoring, 'yRange' | 'clip'>, raw: Float64Array, at: number, out: Float32Array): void {
  const { yRange, clip } = scoring;
  const lo = yRange ? yRange[0] : 0;
  const span = yRange ? yRange[1] - yRange[0] : 0;
  for (let i = 0; i < out.length; i++) {
    const s = raw[at + i]!;
    out[i] = yRange ? lo + span / (1 + Math.exp(-s)) : s < clip[0] ? clip[0] : s > clip[1] ? clip[1] : s;
  }
}

/**
 * Scores a user vector p with bias b against every item (or only `targets`, written to out[t]) into `out`;
 * `raw` (float64, at least as long as out) keeps the scores before the link. The sum runs in the order of
 * the formula above, which the recommend --all kernel (src/kernels/topk.wat) reproduces bit for bit.
 */
export function scoreUserVector(
  scoring: FactorScoring,
  p: Float32Array,
  b: number,
  out: Float32Array,
  raw: Float64Array = new Float64Array(out.length),
  targets?: Int32Array,
): void {
  const n = targets ? targets.length : out.length;
  rawScores(scoring, p, b, raw, targets, n);
  finishScores(scoring, raw, 0, n === out.length ? out : out.subarray(0, n));
}

/**
 * raw[t] = offset + b + bi[i] + Σ_f p_f Q[i, f] for i = targets[t] (t < n), or i = t without targets: the
 * raw scores before the link, each its own float64 chain in the order of the formula above.
 */
export function rawScores(scoring: FactorScoring, p: Float32Array, b: number, raw: Float64Array, targets: Int32Array | undefined, n: number): void {
  const { k, Q, bi, offset } = scoring;
  const init = offset + b;
  let t = 0;
  // four movies at a time: four independent chains hide each add's latency (every chain keeps its order)
  for (; t + 4 <= n; t += 4) {
    const i0 = targets ? targets[t]! : t;
    const i1 = targets ? targets[t + 1]! : t + 1;
    const i2 = targets ? targets[t + 2]! : t + 2;
    const i3 = targets ? targets[t + 3]! : t + 3;
    let s0 = init + (bi ? bi[i0]! : 0);
    let s1 = init + (bi ? bi[i1]! : 0);
    let s2 = init + (bi ? bi[i2]! : 0);
    let s3 = init + (bi ? bi[i3]! : 0);
    const r0 = i0 * k;
    const r1 = i1 * k;
    const r2 = i2 * k;
    const r3 = i3 * k;
    for (let f = 0; f < k; f++) {
      const x = p[f]!;
      s0 += x * Q[r0 + f]!;
      s1 += x * Q[r1 + f]!;
      s2 += x * Q[r2 + f]!;
      s3 += x * Q[r3 + f]!;
    }
    raw[t] = s0;
    raw[t + 1] = s1;
    raw[t + 2] = s2;
    raw[t + 3] = s3;
  }
  for (; t < n; t++) {
    const i = targets ? targets[t]! : t;
    const iRow = i * k;
    let s = init + (bi ? bi[i]! : 0);
    for (let f = 0; f < k; f++) s += p[f]! * Q[iRow + f]!;
    raw[t] = s;
  }
}

/** User u's row of the scoring's user table (a view) and bias. */
export function userOf(scoring: FactorScoring, u: number): { vector: Float32Array; bias: number } {
  const { k, P, bu } = scoring;
  return { vector: P.subarray(u * k, (u + 1) * k), bias: bu ? bu[u]! : 0 };
}

/** The mean of the rows of a rows × cols table, summed in float64. */
export function meanRow(table: Float32Array, rows: number, cols: number): Float32Array {
  const sum = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let f = 0; f < cols; f++) sum[f]! += table[row + f]!;
  }
  return Float32Array.from(sum, (x) => x / rows);
}

/** The average user of the scoring's tables (factors and bias): fold-in's prior, so a user with few ratings starts there. */
export function meanUser(scoring: FactorScoring, nUsers: number): { vector: Float32Array; bias: number } {
  const { k, P, bu } = scoring;
  const sum = new Float64Array(k);
  let bias = 0;
  for (let u = 0; u < nUsers; u++) {
    const uRow = u * k;
    for (let f = 0; f < k; f++) sum[f]! += P[uRow + f]!;
    if (bu) bias += bu[u]!;
  }
  return { vector: Float32Array.from(sum, (x) => x / nUsers), bias: bias / nUsers };
}
