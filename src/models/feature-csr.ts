import { CollabError } from '../core/errors.js';

/**
 * Side features of one entity table (users or items) in compressed sparse rows: entity e has the features
 * indices[offsets[e] .. offsets[e+1]) with weights weights[...] (names[f] is feature f's name, e.g.
 * "genre:Comedy", "age:25-34"). Plain arrays so a model file's JSON manifest holds them as they are.
 */
export interface FeatureTable {
  /** Feature vocabulary. */
  names: string[];
  /** nEntities + 1 row starts. */
  offsets: number[];
  /** Feature indices, row after row. */
  indices: number[];
  /** One weight per entry of `indices` (1 / number of the entity's features, so a representation is a mean). */
  weights: number[];
}

/** Typed copy of a feature table, checked against the number of entities. */
export interface Csr {
  names: string[];
  offsets: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

/** Checks a feature table against n entities (an empty table when absent); `field` names it in errors. */
export function toCsr(table: FeatureTable | undefined, n: number, field: string): Csr {
  if (!table) return { names: [], offsets: new Int32Array(n + 1), indices: new Int32Array(0), weights: new Float32Array(0) };
  const { names, offsets, indices, weights } = table;
  if (offsets.length !== n + 1 || offsets[0] !== 0 || offsets[n] !== indices.length || weights.length !== indices.length) {
    throw new CollabError(
      'INVALID_OPTION',
      `${field} must have ${n + 1} offsets (one row per ${field.startsWith('user') ? 'user' : 'item'} + 1) ending at indices.length, and one weight per index; got ${offsets.length} offsets, ${indices.length} indices, ${weights.length} weights — build it with buildUserFeatures/buildItemFeatures over the same id map`,
      { field },
    );
  }
  for (let t = 0; t < indices.length; t++) {
    if (!Number.isInteger(indices[t]) || indices[t]! < 0 || indices[t]! >= names.length) {
      throw new CollabError('INVALID_OPTION', `${field} index ${indices[t]} at entry ${t} is outside its vocabulary of ${names.length} features`, { field });
    }
  }
  return { names: [...names], offsets: Int32Array.from(offsets), indices: Int32Array.from(indices), weights: Float32Array.from(weights) };
}

/** The plain-array form of a checked table (what a manifest stores). */
export function fromCsr(c: Csr): FeatureTable {
  return { names: [...c.names], offsets: Array.from(c.offsets), indices: Array.from(c.indices), weights: Array.from(c.weights) };
}

/**
 * One entity's composed representation, the LightFM sum of its id row and its weighted feature rows:
 *   out = id[e] + Σ_{f ∈ F(e)} w_ef feat[f]      (the id term left out when `id` is undefined)
 *   returned bias = idBias[e] + Σ_f w_ef featBias[f]   (0 without bias tables)
 * `out` holds k values; rows are k wide.
 */
export function composeInto(
  out: Float64Array,
  k: number,
  csr: Csr,
  e: number,
  id: Float32Array | undefined,
  feat: Float32Array,
  idBias: Float32Array | undefined,
  featBias: Float32Array | undefined,
): number {
  const eRow = e * k;
  if (id) for (let f = 0; f < k; f++) out[f] = id[eRow + f]!;
  else out.fill(0, 0, k);
  let b = idBias ? idBias[e]! : 0;
  const { offsets, indices, weights } = csr;
  for (let t = offsets[e]!; t < offsets[e + 1]!; t++) {
    const fRow = indices[t]! * k;
    const w = weights[t]!;
    for (let f = 0; f < k; f++) out[f] += w * feat[fRow + f]!;
    if (featBias) b += w * featBias[indices[t]!]!;
  }
  return b;
}
