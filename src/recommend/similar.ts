import { CollabError, requireInt } from '../core/errors.js';
import { topKForUser, type TopKResult } from '../maths/top-k.js';

/**
 * Cosine similarity on embedding rows: cos(a, j) = (x_a · x_j) / (|x_a| |x_j|), 0 when either row is
 * all zeros. Works on any row-major factor table (items or users). Row norms are computed once per
 * table and cached by table identity: a table trained further after the first query must be passed to
 * `forgetRowNorms` (or given fresh norms) so the cache is not stale.
 */

const normCache = new WeakMap<Float32Array, Float32Array>();

function checkTable(table: Float32Array, nFactors: number): number {
  requireInt('nFactors', nFactors, 1);
  if (table.length % nFactors !== 0) {
    throw new CollabError('INVALID_OPTION', `a factor table of length ${table.length} is not a multiple of nFactors ${nFactors}; pass the model's number of factors`, { field: 'nFactors' });
  }
  return table.length / nFactors;
}

/** |x_j| for every row j (float64 sums, stored as float32). */
export function rowNorms(table: Float32Array, nFactors: number): Float32Array {
  const nRows = checkTable(table, nFactors);
  const norms = new Float32Array(nRows);
  for (let j = 0; j < nRows; j++) {
    const jRow = j * nFactors;
    let sq = 0;
    for (let f = 0; f < nFactors; f++) sq += table[jRow + f]! * table[jRow + f]!;
    norms[j] = Math.sqrt(sq);
  }
  return norms;
}

/** The table's row norms, computed on first use and then served from a cache keyed by the table. */
export function cachedRowNorms(table: Float32Array, nFactors: number): Float32Array {
  let norms = normCache.get(table);
  if (norms === undefined || norms.length * nFactors !== table.length) {
    norms = rowNorms(table, nFactors);
    normCache.set(table, norms);
  }
  return norms;
}

/** Drops the cached norms of a table whose values changed. */
export function forgetRowNorms(table: Float32Array): void {
  normCache.delete(table);
}

/** out[j] = cos(row, j) for every row j of the table. */
export function cosineToAll(table: Float32Array, nFactors: number, row: number, norms: Float32Array, out: Float32Array): void {
  const nRows = norms.length;
  const aRow = row * nFactors;
  const na = norms[row]!;
  // cos = Σ_f x_a,f x_j,f / (|x_a| |x_j|)
  for (let j = 0; j < nRows; j++) {
    const jRow = j * nFactors;
    let dot = 0;
    for (let f = 0; f < nFactors; f++) dot += table[aRow + f]! * table[jRow + f]!;
    const denom = na * norms[j]!;
    out[j] = denom > 0 ? dot / denom : 0;
  }
}

/**
 * The n rows most cosine-similar to `row` (itself left out), best first, ties by lower index;
 * `exclude` (ascending indices) are left out too. The same call serves similar users on a user table.
 */
export function similarItems(table: Float32Array, nFactors: number, row: number, n: number, exclude?: Int32Array): TopKResult {
  const nRows = checkTable(table, nFactors);
  requireInt('n', n, 1);
  if (!Number.isInteger(row) || row < 0 || row >= nRows) {
    throw new CollabError('INVALID_OPTION', `row ${row} is outside 0..${nRows - 1}; map the raw id to its dense index first`, { field: 'row' });
  }
  const norms = cachedRowNorms(table, nFactors);
  const sims = new Float32Array(nRows);
  cosineToAll(table, nFactors, row, norms, sims);
  // NaN is never selected by top-k: this drops the query row without merging it into `exclude`
  sims[row] = NaN;
  return topKForUser(sims, n, exclude);
}

/** Alias of `similarItems` for a user factor table. */
export const similarUsers = similarItems;
