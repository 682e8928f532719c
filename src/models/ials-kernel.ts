/**
 * The iALS half-step kernel, shared by the main thread and the worker thread (see {@link fitIals}):
 * every row of one side is re-solved with the other side's factors fixed.
 *
 * For row u with the set S_u of its observed columns, fixed factors f_i (the other side's table), the
 * observed confidence c = 1 + α, the unobserved weight α₀ and the ridge weight λ_u, the row minimises
 *   c Σ_{i ∈ S_u} (1 − xᵀf_i)² + α₀ Σ_{i ∉ S_u} (xᵀf_i)² + λ_u |x|²,
 * whose normal equations are A x = b with (the Gramian trick of Hu et al. 2008: G = Σ_all f_i f_iᵀ once per
 * half-step, so a row costs O(k·n_u + k²) instead of O(k²·n_items))
 *   A = α₀ G + (c − α₀) Σ_{i ∈ S_u} f_i f_iᵀ + λ_u I,   b = c Σ_{i ∈ S_u} f_i,
 *   λ_u = λ · (c·n_u + α₀·(n_other − n_u))^ν   (Rendle et al. 2021: ridge scaled by the row's total weight).
 * A is never formed: a few conjugate-gradient steps (Takács et al. 2011) warm-started from the previous x,
 * each needing one product A p = α₀ G p + (c − α₀) Σ_i (f_iᵀp) f_i + λ_u p.
 */

/** Hyperparameters of one half-step, in the order of the shared Float64Array the worker reads. */
export const P_C = 0;
export const P_A0 = 1;
export const P_REG = 2;
export const P_NU = 3;
export const P_CG = 4;
export const PARAM_WORDS = 5;

/** One side's rows as a CSR: the observed columns of row r are cols[offsets[r]..offsets[r+1]). */
export interface RowsCsr {
  offsets: Int32Array;
  cols: Int32Array;
}

/** Scratch buffers of {@link solveRows} (one set per thread, made once). */
export interface CgScratch {
  x: Float64Array;
  r: Float64Array;
  p: Float64Array;
  ap: Float64Array;
}

/** Scratch buffers for k factors. */
export function cgScratch(k: number): CgScratch {
  return { x: new Float64Array(k), r: new Float64Array(k), p: new Float64Array(k), ap: new Float64Array(k) };
}

/** The ridge weight of a row with nObserved observed columns out of nOther (see the file's doc). */
export function rowRidge(params: Float64Array, nObserved: number, nOther: number): number {
  const c = params[P_C]!;
  const a0 = params[P_A0]!;
  return params[P_REG]! * Math.pow(c * nObserved + a0 * (nOther - nObserved), params[P_NU]!);
}

// out = A v − target·Σ_i f_i for the row whose columns are cols[a..b) (see the file's doc for A): with
// target = c it is −(b − A v), the initial residual's negative in the same pass; with 0 it is A v.
function applyA(v: Float64Array, out: Float64Array, G: Float64Array, F: Float32Array, k: number, cols: Int32Array, a: number, b: number, a0: number, cMinusA0: number, lam: number, target: number): void {
  // k is split into a multiple of 4 and a tail: fewer loop tests in the passes every row and rating cost
  const k4 = k - (k & 3);
  for (let f = 0; f < k; f++) {
    const gRow = f * k;
    let s = 0;
    let g = 0;
    for (; g < k4; g += 4) s += G[gRow + g]! * v[g]! + G[gRow + g + 1]! * v[g + 1]! + G[gRow + g + 2]! * v[g + 2]! + G[gRow + g + 3]! * v[g + 3]!;
    for (; g < k; g++) s += G[gRow + g]! * v[g]!;
    out[f] = a0 * s + lam * v[f]!;
  }
  for (let t = a; t < b; t++) {
    const iRow = cols[t]! * k;
    let d = 0;
    let f = 0;
    for (; f < k4; f += 4) d += F[iRow + f]! * v[f]! + F[iRow + f + 1]! * v[f + 1]! + F[iRow + f + 2]! * v[f + 2]! + F[iRow + f + 3]! * v[f + 3]!;
    for (; f < k; f++) d += F[iRow + f]! * v[f]!;
    const w = cMinusA0 * d - target;
    for (f = 0; f < k4; f += 4) {
      out[f] += w * F[iRow + f]!;
      out[f + 1] += w * F[iRow + f + 1]!;
      out[f + 2] += w * F[iRow + f + 2]!;
      out[f + 3] += w * F[iRow + f + 3]!;
    }
    for (; f < k; f++) out[f] += w * F[iRow + f]!;
  }
}

/**
 * Re-solves rows [start, end) of T (n × k, row-major) by `params[P_CG]` conjugate-gradient steps from their
 * current values, with F (the other side, nOther × k) and its Gramian G = FᵀF (k × k, float64) fixed.
 */
export function solveRows(T: Float32Array, F: Float32Array, G: Float64Array, rows: RowsCsr, nOther: number, k: number, params: Float64Array, start: number, end: number, s: CgScratch): void {
  const c = params[P_C]!;
  const a0 = params[P_A0]!;
  const cg = params[P_CG]!;
  const { offsets, cols } = rows;
  const { x, r, p, ap } = s;
  for (let u = start; u < end; u++) {
    const a = offsets[u]!;
    const b = offsets[u + 1]!;
    const lam = rowRidge(params, b - a, nOther);
    const uRow = u * k;
    for (let f = 0; f < k; f++) x[f] = T[uRow + f]!;
    // r = b − A x with b = c Σ_i f_i
    applyA(x, ap, G, F, k, cols, a, b, a0, c - a0, lam, c);
    for (let f = 0; f < k; f++) r[f] = -ap[f]!;
    let rr = 0;
    for (let f = 0; f < k; f++) {
      p[f] = r[f]!;
      rr += r[f]! * r[f]!;
    }
    for (let step = 0; step < cg && rr > 1e-20; step++) {
      applyA(p, ap, G, F, k, cols, a, b, a0, c - a0, lam, 0);
      let pAp = 0;
      for (let f = 0; f < k; f++) pAp += p[f]! * ap[f]!;
      if (!(pAp > 0)) break;
      // x += (rᵀr / pᵀAp) p,  r −= (rᵀr / pᵀAp) A p,  p = r + (r'ᵀr' / rᵀr) p
      const step_ = rr / pAp;
      let rrNew = 0;
      for (let f = 0; f < k; f++) {
        x[f] += step_ * p[f]!;
        r[f] -= step_ * ap[f]!;
        rrNew += r[f]! * r[f]!;
      }
      const beta = rrNew / rr;
      for (let f = 0; f < k; f++) p[f] = r[f]! + beta * p[f]!;
      rr = rrNew;
    }
    for (let f = 0; f < k; f++) T[uRow + f] = x[f]!;
  }
}

/** G = FᵀF over rows [start, end) of F (n × k), added into G (k × k, float64, both triangles). */
export function addGramian(F: Float32Array, k: number, start: number, end: number, G: Float64Array): void {
  for (let i = start; i < end; i++) {
    const iRow = i * k;
    for (let f = 0; f < k; f++) {
      const v = F[iRow + f]!;
      if (v === 0) continue;
      const gRow = f * k;
      for (let g = f; g < k; g++) G[gRow + g] += v * F[iRow + g]!;
    }
  }
}

/** Mirrors the upper triangle of a k × k matrix into the lower one. */
export function mirrorUpper(G: Float64Array, k: number): void {
  for (let f = 0; f < k; f++) for (let g = f + 1; g < k; g++) G[g * k + f] = G[f * k + g]!;
}
