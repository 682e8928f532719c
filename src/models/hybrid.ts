import { RandomState } from '../core/random.js';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { Param, RatingModel } from './model.js';
import { makeParam, truncNormal } from './init.js';

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

/** Options of {@link HybridModel}. */
export interface HybridOptions {
  /** Embedding width k. Default 50. */
  nFactors?: number;
  /** Output range [lo, hi] of the scaled sigmoid. Default [0, 5.5] (callers pass the data's range). */
  yRange?: [number, number];
  /** Init std of the trunc-normal tables. Default 0.01 (fastai). */
  initStd?: number;
  /** User side features (rows = nUsers). Default: none (every user has only its id). */
  userFeatures?: FeatureTable;
  /** Item side features (rows = nItems). Default: none. */
  itemFeatures?: FeatureTable;
  /**
   * Share of training ratings in which the user's id embedding and bias are left out, so the feature
   * part alone must predict. Default 0: a new user is better served by mapping features to a trained
   * user's whole representation (evaluate/coldstart's userFeatureMap), and dropout costs warm accuracy.
   */
  userIdDropout?: number;
  /** The same for movies: a new movie is predicted from its features alone, which this trains. Default 0.1 (0 without item features). */
  itemIdDropout?: number;
  /** Weight decay on the bias tables too, as fastai does. Default false (as dotbias: a rare movie's bias is the best thing known about it). */
  biasDecay?: boolean;
}

/** Typed copy of a feature table, checked against the number of entities. */
interface Csr {
  names: string[];
  offsets: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

function toCsr(table: FeatureTable | undefined, n: number, field: string): Csr {
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

function fromCsr(c: Csr): FeatureTable {
  return { names: [...c.names], offsets: Array.from(c.offsets), indices: Array.from(c.indices), weights: Array.from(c.weights) };
}

/**
 * A LightFM-style hybrid: a user's representation is its id embedding plus the weighted sum of its
 * feature embeddings, and the same for items and for the biases:
 *   p̃_u = P[u] + Σ_{f ∈ F(u)} w_uf PF[f]     b̃_u = bu[u] + Σ_f w_uf bF[f]
 *   q̃_i = Q[i] + Σ_{g ∈ G(i)} w_ig QF[g]     b̃_i = bi[i] + Σ_g w_ig bG[g]
 *   pred(u, i) = sigmoid(x) · (hi - lo) + lo,  x = p̃_u·q̃_i + b̃_u + b̃_i   (fastai's dotbias head)
 * With dL/dx = 2 (pred - y) / B · (hi - lo) · s (1 - s) (s = sigmoid(x)), the chain rule gives
 *   dL/dP[u] = dL/dx · q̃_i,  dL/dPF[f] = w_uf · dL/dx · q̃_i,  dL/dQ[i] = dL/dx · p̃_u,  dL/dQF[g] = w_ig · dL/dx · p̃_u,
 *   dL/dbu[u] = dL/dbi[i] = dL/dx,  dL/dbF[f] = w_uf dL/dx,  dL/dbG[g] = w_ig dL/dx.
 * A user or item that had no training rating keeps its (tiny) initial id rows, so its representation is
 * its features' — the cold-start path. To train the features for that path, each training rating drops
 * the user's id part with probability userIdDropout (and the movie's with itemIdDropout), as DropoutNet
 * does: the prediction then uses the feature part alone and the dropped id rows get no gradient. Every table is sparse: a batch touches its users', items' and
 * their features' rows (the feature tables are small, so they are touched by nearly every batch).
 */
export class HybridModel implements RatingModel {
  /** Whether the bias tables are weight-decayed. */
  readonly biasDecay: boolean;
  readonly kind = 'hybrid' as const;
  readonly nFactors: number;
  readonly yRange: [number, number];
  readonly initStd: number;
  readonly userIdDropout: number;
  readonly itemIdDropout: number;
  readonly userIdFactors: Param;
  readonly itemIdFactors: Param;
  readonly userIdBias: Param;
  readonly itemIdBias: Param;
  readonly userFeatureFactors: Param;
  readonly itemFeatureFactors: Param;
  readonly userFeatureBias: Param;
  readonly itemFeatureBias: Param;
  readonly params: readonly Param[];
  private readonly uf: Csr;
  private readonly itf: Csr;
  /** Composed p̃_u and q̃_i of the rating being processed (float64 scratch, reused). */
  private readonly pu: Float64Array;
  private readonly qi: Float64Array;
  /** Draws of the id dropout (training only). */
  private readonly rng: RandomState;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    options: HybridOptions = {},
    seed = 42,
  ) {
    requireInt('nUsers', nUsers, 1);
    requireInt('nItems', nItems, 1);
    this.nFactors = requireInt('nFactors', options.nFactors ?? 50, 1, 4096);
    this.initStd = requireNumber('initStd', options.initStd ?? 0.01, 0);
    const yRange = options.yRange ?? [0, 5.5];
    if (!(yRange[1] > yRange[0])) {
      throw new CollabError('INVALID_OPTION', `yRange must be [lo, hi] with hi > lo, got [${yRange.join(', ')}]`, { field: 'yRange' });
    }
    this.yRange = [yRange[0], yRange[1]];
    this.uf = toCsr(options.userFeatures, nUsers, 'userFeatures');
    this.itf = toCsr(options.itemFeatures, nItems, 'itemFeatures');
    this.userIdDropout = requireNumber('userIdDropout', options.userIdDropout ?? 0, 0, 1);
    this.itemIdDropout = requireNumber('itemIdDropout', options.itemIdDropout ?? (this.itf.names.length > 0 ? 0.1 : 0), 0, 1);
    const k = this.nFactors;
    // A model without features still needs one row per feature table; a zero-row table is not a valid Param.
    const nUf = Math.max(1, this.uf.names.length);
    const nIf = Math.max(1, this.itf.names.length);
    this.userIdFactors = makeParam('userIdFactors', nUsers, k, true);
    this.itemIdFactors = makeParam('itemIdFactors', nItems, k, true);
    this.biasDecay = options.biasDecay ?? false;
    this.userIdBias = makeParam('userIdBias', nUsers, 1, true, this.biasDecay);
    this.itemIdBias = makeParam('itemIdBias', nItems, 1, true, this.biasDecay);
    this.userFeatureFactors = makeParam('userFeatureFactors', nUf, k, true);
    this.itemFeatureFactors = makeParam('itemFeatureFactors', nIf, k, true);
    this.userFeatureBias = makeParam('userFeatureBias', nUf, 1, true, this.biasDecay);
    this.itemFeatureBias = makeParam('itemFeatureBias', nIf, 1, true, this.biasDecay);
    this.params = [
      this.userIdFactors,
      this.itemIdFactors,
      this.userIdBias,
      this.itemIdBias,
      this.userFeatureFactors,
      this.itemFeatureFactors,
      this.userFeatureBias,
      this.itemFeatureBias,
    ];
    const rng = new RandomState(seed);
    for (const p of this.params) truncNormal(p.value, rng, this.initStd);
    this.pu = new Float64Array(k);
    this.qi = new Float64Array(k);
    this.rng = new RandomState(seed + 1);
  }

  /** Architecture and feature tables, enough to rebuild the model with createModel('hybrid', ...). */
  config(): Record<string, unknown> {
    return {
      nFactors: this.nFactors,
      yRange: [...this.yRange],
      initStd: this.initStd,
      userIdDropout: this.userIdDropout,
      itemIdDropout: this.itemIdDropout,
      biasDecay: this.biasDecay,
      userFeatures: fromCsr(this.uf),
      itemFeatures: fromCsr(this.itf),
    };
  }

  /** Names of the user features of dense user u. */
  userFeatureNames(u: number): string[] {
    const out: string[] = [];
    for (let t = this.uf.offsets[u]!; t < this.uf.offsets[u + 1]!; t++) out.push(this.uf.names[this.uf.indices[t]!]!);
    return out;
  }

  /** Names of the item features of dense item i. */
  itemFeatureNames(i: number): string[] {
    const out: string[] = [];
    for (let t = this.itf.offsets[i]!; t < this.itf.offsets[i + 1]!; t++) out.push(this.itf.names[this.itf.indices[t]!]!);
    return out;
  }

  /** The user feature vocabulary. */
  get userFeatureVocabulary(): readonly string[] {
    return this.uf.names;
  }

  /** The item feature vocabulary. */
  get itemFeatureVocabulary(): readonly string[] {
    return this.itf.names;
  }

  /** p̃_u into this.pu (without the id part when `useId` is false); returns b̃_u. */
  private composeUser(u: number, useId = true): number {
    const k = this.nFactors;
    const P = this.userIdFactors.value;
    const PF = this.userFeatureFactors.value;
    const bF = this.userFeatureBias.value;
    const pu = this.pu;
    const uRow = u * k;
    // p̃_u = P[u] + Σ_f w_uf PF[f],  b̃_u = bu[u] + Σ_f w_uf bF[f]
    for (let f = 0; f < k; f++) pu[f] = useId ? P[uRow + f]! : 0;
    let b = useId ? this.userIdBias.value[u]! : 0;
    const { offsets, indices, weights } = this.uf;
    for (let t = offsets[u]!; t < offsets[u + 1]!; t++) {
      const fRow = indices[t]! * k;
      const w = weights[t]!;
      for (let f = 0; f < k; f++) pu[f] += w * PF[fRow + f]!;
      b += w * bF[indices[t]!]!;
    }
    return b;
  }

  /** q̃_i into this.qi (without the id part when `useId` is false); returns b̃_i. */
  private composeItem(i: number, useId = true): number {
    const k = this.nFactors;
    const Q = this.itemIdFactors.value;
    const QF = this.itemFeatureFactors.value;
    const bG = this.itemFeatureBias.value;
    const qi = this.qi;
    const iRow = i * k;
    // q̃_i = Q[i] + Σ_g w_ig QF[g],  b̃_i = bi[i] + Σ_g w_ig bG[g]
    for (let f = 0; f < k; f++) qi[f] = useId ? Q[iRow + f]! : 0;
    let b = useId ? this.itemIdBias.value[i]! : 0;
    const { offsets, indices, weights } = this.itf;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) {
      const gRow = indices[t]! * k;
      const w = weights[t]!;
      for (let f = 0; f < k; f++) qi[f] += w * QF[gRow + f]!;
      b += w * bG[indices[t]!]!;
    }
    return b;
  }

  /** Forward + backward of one minibatch (see the class doc for the gradient). */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number {
    const { users, items, ratings } = data;
    const k = this.nFactors;
    const gP = this.userIdFactors.grad;
    const gQ = this.itemIdFactors.grad;
    const gbu = this.userIdBias.grad;
    const gbi = this.itemIdBias.grad;
    const gPF = this.userFeatureFactors.grad;
    const gQF = this.itemFeatureFactors.grad;
    const gbF = this.userFeatureBias.grad;
    const gbG = this.itemFeatureBias.grad;
    const gPd = gP.data;
    const gQd = gQ.data;
    const gPFd = gPF.data;
    const gQFd = gQF.data;
    const gbFd = gbF.data;
    const gbGd = gbG.data;
    const uf = this.uf;
    const itf = this.itf;
    const pu = this.pu;
    const qi = this.qi;
    const [lo, hi] = this.yRange;
    const span = hi - lo;
    const scale = (2 * span) / (end - start);
    const pU = this.userIdDropout;
    const pI = this.itemIdDropout;
    let sse = 0;
    for (let r = start; r < end; r++) {
      const row = order[r]!;
      const u = users[row]!;
      const i = items[row]!;
      // id dropout: with probability pU (pI) the user's (movie's) id part is left out of this rating
      const useU = pU === 0 || this.rng.random() >= pU;
      const useI = pI === 0 || this.rng.random() >= pI;
      // x = p̃_u·q̃_i + b̃_u + b̃_i
      let x = this.composeUser(u, useU) + this.composeItem(i, useI);
      for (let f = 0; f < k; f++) x += pu[f]! * qi[f]!;
      const s = 1 / (1 + Math.exp(-x));
      const pred = s * span + lo;
      const err = pred - ratings[row]!;
      sse += err * err;
      // dL/dx = 2 err / B · (hi - lo) · s (1 - s)
      const g = scale * err * s * (1 - s);
      if (useU) {
        const uRow = u * k;
        for (let f = 0; f < k; f++) gPd[uRow + f] += g * qi[f]!;
        gbu.data[u] += g;
        gP.touch(u);
        gbu.touch(u);
      }
      if (useI) {
        const iRow = i * k;
        for (let f = 0; f < k; f++) gQd[iRow + f] += g * pu[f]!;
        gbi.data[i] += g;
        gQ.touch(i);
        gbi.touch(i);
      }
      // dL/dPF[f] = w_uf g q̃_i, dL/dbF[f] = w_uf g
      for (let t = uf.offsets[u]!; t < uf.offsets[u + 1]!; t++) {
        const fi = uf.indices[t]!;
        const wg = uf.weights[t]! * g;
        const fRow = fi * k;
        for (let f = 0; f < k; f++) gPFd[fRow + f] += wg * qi[f]!;
        gbFd[fi] += wg;
        gPF.touch(fi);
        gbF.touch(fi);
      }
      // dL/dQF[g] = w_ig g p̃_u, dL/dbG[g] = w_ig g
      for (let t = itf.offsets[i]!; t < itf.offsets[i + 1]!; t++) {
        const gi = itf.indices[t]!;
        const wg = itf.weights[t]! * g;
        const gRow = gi * k;
        for (let f = 0; f < k; f++) gQFd[gRow + f] += wg * pu[f]!;
        gbGd[gi] += wg;
        gQF.touch(gi);
        gbG.touch(gi);
      }
    }
    return sse;
  }

  /** Predicted rating of dense (user, item), from ids and features (features alone for a cold user or item). */
  predict(user: number, item: number): number {
    const k = this.nFactors;
    let x = this.composeUser(user) + this.composeItem(item);
    for (let f = 0; f < k; f++) x += this.pu[f]! * this.qi[f]!;
    return (1 / (1 + Math.exp(-x))) * (this.yRange[1] - this.yRange[0]) + this.yRange[0];
  }

  /** Predictions for many dense pairs into `out`. */
  predictMany(users: Int32Array, items: Int32Array, out: Float32Array): void {
    for (let r = 0; r < users.length; r++) out[r] = this.predict(users[r]!, items[r]!);
  }

  /**
   * Every item's composed representation: q̃ (nItems × k) and b̃ (nItems), the fixed item side of a
   * fold-in or of fast scoring (score = lo + (hi - lo) sigmoid(p̃·q̃_i + b̃_u + b̃_i)).
   */
  itemRepresentations(): { factors: Float32Array; bias: Float32Array } {
    const k = this.nFactors;
    const factors = new Float32Array(this.nItems * k);
    const bias = new Float32Array(this.nItems);
    for (let i = 0; i < this.nItems; i++) {
      bias[i] = this.composeItem(i);
      for (let f = 0; f < k; f++) factors[i * k + f] = this.qi[f]!;
    }
    return { factors, bias };
  }

  /** User u's composed representation p̃_u, b̃_u. */
  userRepresentation(u: number): { vector: Float32Array; bias: number } {
    requireInt('user', u, 0, this.nUsers - 1);
    const bias = this.composeUser(u);
    return { vector: Float32Array.from(this.pu), bias };
  }

  /**
   * The representation of a user known only by feature names (a new visitor: "age:25-34", "gender:F", ...):
   * the weighted mean of those features' embeddings, no id part. Unknown names are ignored and returned.
   */
  featureUser(names: readonly string[]): { vector: Float32Array; bias: number; unknown: string[] } {
    const k = this.nFactors;
    const index = new Map(this.uf.names.map((n, f) => [n, f]));
    const known = names.filter((n) => index.has(n));
    const unknown = names.filter((n) => !index.has(n));
    const vector = new Float32Array(k);
    let bias = 0;
    const w = known.length > 0 ? 1 / known.length : 0;
    for (const n of known) {
      const fi = index.get(n)!;
      for (let f = 0; f < k; f++) vector[f] += w * this.userFeatureFactors.value[fi * k + f]!;
      bias += w * this.userFeatureBias.value[fi]!;
    }
    return { vector, bias, unknown };
  }
}
