import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';

/**
 * PCA of a factor table (rows = items, columns = factors), all in float64:
 *   m = mean row, C = Σ_r (x_r - m)(x_r - m)ᵀ / (n - 1)          (nCols × nCols)
 * Components are C's top eigenvectors, found one at a time by power iteration v ← C v / |C v| followed
 * by deflation C ← C - λ v vᵀ. Each component's sign is fixed so its largest-magnitude entry is
 * positive, making the output deterministic. coordinates[r, c] = (x_r - m) · v_c.
 */

/** Options of `pca`. */
export interface PcaOptions {
  /** Rows of the table to use (e.g. the most-rated items). Default: every row. */
  rows?: Int32Array;
  /** Power-iteration steps per component at most. Default 1000. */
  maxIterations?: number;
  /** Stop when |v_new - v_old| falls below this. Default 1e-10. */
  tolerance?: number;
  /** Seed of the random start vectors. Default 0. */
  seed?: number;
}

/** Principal components of a factor table. */
export interface PcaResult {
  nComponents: number;
  nCols: number;
  /** The rows used, in the order of `coordinates`. */
  rows: Int32Array;
  /** Mean row (nCols). */
  mean: Float64Array;
  /** nComponents × nCols unit vectors, strongest first. */
  components: Float64Array;
  /** Variance along each component (eigenvalue of C). */
  variance: Float64Array;
  /** variance / total variance (trace of C). */
  explainedRatio: Float64Array;
  /** rows.length × nComponents projections. */
  coordinates: Float64Array;
  /** Whether every component met the tolerance within maxIterations. */
  converged: boolean;
}

/** The top nComponents principal components of the nRows × nCols table, and every used row's coordinates. */
export function pca(table: Float32Array, nRows: number, nCols: number, nComponents: number, options: PcaOptions = {}): PcaResult {
  requireInt('nRows', nRows, 0);
  requireInt('nCols', nCols, 1);
  requireInt('nComponents', nComponents, 1, nCols);
  const maxIterations = requireInt('maxIterations', options.maxIterations ?? 1000, 1);
  const tolerance = requireNumber('tolerance', options.tolerance ?? 1e-10, 0);
  if (table.length !== nRows * nCols) {
    throw new CollabError('INVALID_OPTION', `table has ${table.length} values, expected nRows × nCols = ${nRows * nCols}`, { field: 'table' });
  }
  let rows = options.rows;
  if (rows === undefined) {
    rows = new Int32Array(nRows);
    for (let r = 0; r < nRows; r++) rows[r] = r;
  }
  const n = rows.length;
  if (n < 2) {
    throw new CollabError('INVALID_OPTION', `PCA needs at least 2 rows, got ${n}; pass more items (or fewer filters)`, { field: 'rows' });
  }
  for (let t = 0; t < n; t++) {
    if (rows[t]! < 0 || rows[t]! >= nRows) {
      throw new CollabError('INVALID_OPTION', `rows[${t}] is ${rows[t]}, outside 0..${nRows - 1}`, { field: 'rows' });
    }
  }
  const d = nCols;
  const mean = new Float64Array(d);
  for (let t = 0; t < n; t++) {
    const xRow = rows[t]! * d;
    for (let a = 0; a < d; a++) mean[a]! += table[xRow + a]!;
  }
  for (let a = 0; a < d; a++) mean[a]! /= n;

  // C = Σ (x - m)(x - m)ᵀ / (n - 1), upper triangle then mirrored
  const C = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let t = 0; t < n; t++) {
    const xRow = rows[t]! * d;
    for (let a = 0; a < d; a++) centred[a] = table[xRow + a]! - mean[a]!;
    for (let a = 0; a < d; a++) {
      const ca = centred[a]!;
      const cRow = a * d;
      for (let b = a; b < d; b++) C[cRow + b]! += ca * centred[b]!;
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = C[a * d + b]! / (n - 1);
      C[a * d + b] = v;
      C[b * d + a] = v;
    }
    trace += C[a * d + a]!;
  }

  const rng = new RandomState(options.seed ?? 0);
  const components = new Float64Array(nComponents * d);
  const variance = new Float64Array(nComponents);
  const v = new Float64Array(d);
  const w = new Float64Array(d);
  let converged = true;
  for (let c = 0; c < nComponents; c++) {
    for (let a = 0; a < d; a++) v[a] = rng.normal();
    normalise(v);
    let done = false;
    for (let it = 0; it < maxIterations && !done; it++) {
      // w = C v / |C v|
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += C[a * d + b]! * v[b]!;
        w[a] = s;
      }
      if (normalise(w) === 0) {
        // nothing left to explain: any unit vector orthogonal to the earlier ones has variance 0
        done = true;
        break;
      }
      let diff = 0;
      for (let a = 0; a < d; a++) diff += (w[a]! - v[a]!) ** 2;
      v.set(w);
      done = Math.sqrt(diff) < tolerance;
    }
    if (!done) converged = false;
    // λ = vᵀ C v
    let lambda = 0;
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += C[a * d + b]! * v[b]!;
      lambda += v[a]! * s;
    }
    let big = 0;
    for (let a = 1; a < d; a++) if (Math.abs(v[a]!) > Math.abs(v[big]!)) big = a;
    const sign = v[big]! < 0 ? -1 : 1;
    for (let a = 0; a < d; a++) components[c * d + a] = sign * v[a]!;
    variance[c] = Math.max(lambda, 0);
    // deflate: C ← C - λ v vᵀ
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) C[a * d + b]! -= lambda * v[a]! * v[b]!;
  }

  const coordinates = new Float64Array(n * nComponents);
  for (let t = 0; t < n; t++) {
    const xRow = rows[t]! * d;
    for (let c = 0; c < nComponents; c++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += (table[xRow + a]! - mean[a]!) * components[c * d + a]!;
      coordinates[t * nComponents + c] = s;
    }
  }
  const explainedRatio = variance.map((x) => (trace > 0 ? x / trace : 0));
  return { nComponents, nCols: d, rows, mean, components, variance, explainedRatio, coordinates, converged };
}

/** Scales x to unit length in place; returns its former length. */
function normalise(x: Float64Array): number {
  let sq = 0;
  for (let a = 0; a < x.length; a++) sq += x[a]! * x[a]!;
  const len = Math.sqrt(sq);
  if (len > 0) for (let a = 0; a < x.length; a++) x[a]! /= len;
  return len;
}
