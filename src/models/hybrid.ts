import { RandomState } from '../core/random.js';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { Param, RatingModel } from './model.js';
import type { FactorScoring } from './scoring.js';
import { makeParam, truncNormal } from './init.js';
import { composeInto, fromCsr, toCsr, type Csr, type FeatureTable } from './feature-csr.js';
import { PickHead } from './pick-head.js';

export type { FeatureTable };

/**
 * The cold movie tables learn from one rating in COLD_EVERY (a different one each batch): they are a small
 * regression from metadata, and on every rating they cost as much as the rating head (on ml-100k, new-movie
 * RMSE 0.982 / 0.961 / 1.012 against 0.983 / 0.961 / 1.011 on every rating, three seeds).
 */
const COLD_EVERY = 4;

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
  /**
   * The same for movies. Default 0: the cold movie tables serve new movies (measured better on MovieLens
   * than id dropout, which pushed every prediction up by ~0.02 and cost new users' RMSE).
   */
  itemIdDropout?: number;
  /** Weight decay on the bias tables too, as fastai does. Default false (as dotbias: a rare movie's bias is the best thing known about it). */
  biasDecay?: boolean;
  /**
   * Width of the pick head ({@link PickHead}: which movies a user watches at all, a personalised
   * log-popularity that rankings add to the predicted rating); 0 leaves it out. Default nFactors.
   */
  pickFactors?: number;
  /** Negatives per batch of the pick head's sampled softmax. Default 32. */
  pickNegatives?: number;
  /**
   * The pick head's movie id dropout: the share of training ratings whose movie it sees through the
   * features alone, which trains what it knows of a new movie. Default 0.1 (0 without item features).
   */
  pickItemIdDropout?: number;
  /**
   * Train feature-only "cold" movie tables beside the rating head ({@link HybridModel.coldItem}): what a
   * movie that never trained is predicted as. Default true (without item features there are none).
   */
  coldItemTables?: boolean;
  /** The pick head's matrix products: 'wasm' (f32x4 kernels on float32 copies) or 'js' (float64 loops). Default 'wasm'. */
  kernels?: 'wasm' | 'js';
  /** Put the pick head's tables in shared memory, so a worker thread can train it (the learner sets this for threads > 1). Default false. */
  shared?: boolean;
  /**
   * The movies that had no training rating, as config() saves them once the model trained: they are then
   * predicted by the cold movie tables. Default: none known (a fresh model).
   */
  untrainedItems?: number[];
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
 * A movie that had no training rating is predicted by the cold movie tables (below), trained for exactly
 * that; a user who had none keeps its (tiny) initial id rows, so its representation is its features' (a
 * new user is better served by recommend/feature-map's prior, fitted on the trained users). Optionally,
 * as DropoutNet does, each training rating drops the user's id part with probability userIdDropout (and
 * the movie's with itemIdDropout): the prediction then uses the feature part alone and the dropped id rows
 * get no gradient (both default 0). Every table is sparse: a batch touches its users', items' and their
 * features' rows (the feature tables are small, so they are touched by nearly every batch). The pick head
 * ({@link PickHead}) is a second set of tables trained beside, on which movies people rate at all.
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
  /**
   * Feature-only tables for movies without training ratings: a cold movie is c_i = Σ_g w_ig CI[g] with bias
   * Σ_g w_ig dI[g], trained on one rating in COLD_EVERY against the user's representation as the rating
   * head composed it for that rating, which it does not move; so the rating head itself is trained as
   * dotbias is, with no id dropout to distort it (absent with coldItemTables false or without item features).
   */
  readonly coldItemTables: { factors: Param; bias: Param } | undefined;
  /** The pick head (absent with pickFactors 0, and in model files written before it existed). */
  readonly pick: PickHead | undefined;
  /** Every learnable table: the rating head's, then the pick head's. */
  readonly params: readonly Param[];
  /**
   * The rating head's tables that nearly every batch touches: the side-feature tables and the cold movie
   * tables (a few dozen rows shared by all users or movies), unlike the id rows, which a batch of 64 rarely hits.
   */
  readonly sharedParams: readonly Param[];
  private readonly uf: Csr;
  private readonly itf: Csr;
  /** Composed p̃_u and q̃_i of the rating being processed (float64 scratch, reused). */
  private readonly pu: Float64Array;
  private readonly qi: Float64Array;
  /** Draws of the id dropout (training only). */
  private readonly rng: RandomState;
  /**
   * The last batch's summed losses of the side objectives (the rating head's squared error is what
   * trainBatch returns): the cold movie tables' squared errors, and the pick head's sampled-softmax losses.
   */
  lastColdLoss = 0;
  lastPickLoss = 0;
  /**
   * Set by a learner that trains the pick head on a worker thread (train/pick-worker): trainBatch then
   * trains the rating head and the cold tables only.
   */
  pickTrainedElsewhere = false;
  /** Movies some training batch held, and whether any batch ran (see composeScoredItem). */
  private readonly trainedItem: Uint8Array;
  private anyTrained = false;
  /** Which of every COLD_EVERY ratings of a batch trains the cold movie tables (rotates by batch). */
  private coldPhase = 0;
  /** Composed cold representation of the rating being processed (scratch). */
  private readonly ci: Float64Array;

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
    this.itemIdDropout = requireNumber('itemIdDropout', options.itemIdDropout ?? 0, 0, 1);
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
    const ratingParams = [
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
    for (const p of ratingParams) truncNormal(p.value, rng, this.initStd);
    const pickFactors = requireInt('pickFactors', options.pickFactors ?? this.nFactors, 0, 4096);
    this.pick =
      pickFactors > 0
        ? new PickHead(nUsers, nItems, this.uf, this.itf, {
            nFactors: pickFactors,
            nNegatives: requireInt('pickNegatives', options.pickNegatives ?? 32, 1, 4096),
            initStd: this.initStd,
            userIdDropout: this.userIdDropout,
            kernels: options.kernels ?? 'wasm',
            shared: options.shared ?? false,
            itemIdDropout: requireNumber('pickItemIdDropout', options.pickItemIdDropout ?? (this.itf.names.length > 0 ? 0.1 : 0), 0, 1),
          }, seed + 2)
        : undefined;
    this.coldItemTables =
      (options.coldItemTables ?? true) && this.itf.names.length > 0
        ? { factors: makeParam('itemColdFactors', nIf, k, true), bias: makeParam('itemColdBias', nIf, 1, true, this.biasDecay) }
        : undefined;
    const coldParams = this.coldItemTables ? [this.coldItemTables.factors, this.coldItemTables.bias] : [];
    for (const p of coldParams) truncNormal(p.value, rng, this.initStd);
    this.params = [...ratingParams, ...coldParams, ...(this.pick ? this.pick.params : [])];
    this.sharedParams = [this.userFeatureFactors, this.itemFeatureFactors, this.userFeatureBias, this.itemFeatureBias, ...coldParams];
    this.ci = new Float64Array(k);
    this.trainedItem = new Uint8Array(nItems);
    if (options.untrainedItems) {
      this.trainedItem.fill(1);
      for (const i of options.untrainedItems) {
        requireInt('untrainedItems', i, 0, nItems - 1);
        this.trainedItem[i] = 0;
      }
      this.anyTrained = true;
    }
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
      coldItemTables: this.coldItemTables !== undefined,
      ...(this.anyTrained ? { untrainedItems: Array.from(this.trainedItem.keys()).filter((i) => this.trainedItem[i] === 0) } : {}),
      ...(this.pick ? { pickItemIdDropout: this.pick.itemIdDropout } : {}),
      pickFactors: this.pick?.nFactors ?? 0,
      ...(this.pick ? { pickNegatives: this.pick.nNegatives } : {}),
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
    // p̃_u = P[u] + Σ_f w_uf PF[f],  b̃_u = bu[u] + Σ_f w_uf bF[f]
    const id = useId ? this.userIdFactors.value : undefined;
    const idBias = useId ? this.userIdBias.value : undefined;
    return composeInto(this.pu, this.nFactors, this.uf, u, id, this.userFeatureFactors.value, idBias, this.userFeatureBias.value);
  }

  /** q̃_i into this.qi (without the id part when `useId` is false); returns b̃_i. */
  private composeItem(i: number, useId = true): number {
    // q̃_i = Q[i] + Σ_g w_ig QF[g],  b̃_i = bi[i] + Σ_g w_ig bG[g]
    const id = useId ? this.itemIdFactors.value : undefined;
    const idBias = useId ? this.itemIdBias.value : undefined;
    return composeInto(this.qi, this.nFactors, this.itf, i, id, this.itemFeatureFactors.value, idBias, this.itemFeatureBias.value);
  }

  /**
   * q̃_i into this.qi as predictions see it; returns b̃_i. A movie that never trained, in a model that has
   * (its batches or {@link markTrainedItems} say which did), is its cold representation when it has one:
   * its id rows are only init noise, and the rating head's feature rows learnt beside them, not alone.
   */
  private composeScoredItem(i: number): number {
    const cold = this.coldItemTables;
    if (!cold || !this.anyTrained || this.trainedItem[i] || this.itf.offsets[i] === this.itf.offsets[i + 1]) return this.composeItem(i);
    return composeInto(this.qi, this.nFactors, this.itf, i, undefined, cold.factors.value, undefined, cold.bias.value);
  }

  /** Records that these movies have training ratings (trainBatch does for its batches). */
  markTrainedItems(items: Int32Array): void {
    for (let r = 0; r < items.length; r++) this.trainedItem[items[r]!] = 1;
    if (items.length > 0) this.anyTrained = true;
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
    const cold = this.coldItemTables;
    let sse = 0;
    let coldLoss = 0;
    for (let r = start; r < end; r++) {
      const row = order[r]!;
      const u = users[row]!;
      const i = items[row]!;
      this.trainedItem[i] = 1;
      // id dropout: with probability pU (pI) the user's (movie's) id part is left out of this rating
      const useU = pU === 0 || this.rng.random() >= pU;
      const useI = pI === 0 || this.rng.random() >= pI;
      // x = p̃_u·q̃_i + b̃_u + b̃_i
      const bU = this.composeUser(u, useU);
      const bI = this.composeItem(i, useI);
      let x = bU + bI;
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
      if (cold && (r + this.coldPhase) % COLD_EVERY === 0) coldLoss += this.coldItemStep(i, cold.factors, cold.bias, pu, bU, ratings[row]!, scale);
    }
    this.anyTrained = true;
    this.lastColdLoss = coldLoss;
    this.coldPhase = (this.coldPhase + 1) % COLD_EVERY;
    this.lastPickLoss = this.pick && !this.pickTrainedElsewhere ? this.pick.trainBatch(data, order, start, end) : 0;
    return sse;
  }

  /**
   * One rating's step of the cold movie tables (the user's composed p̃_u, b̃_u fixed):
   *   x = c_i·p̃_u + d_i + b̃_u,  c_i = Σ_g w_ig CI[g],  d_i = Σ_g w_ig dI[g],  pred = lo + (hi - lo) σ(x)
   *   dL/dCI[g] = w_ig g p̃_u,  dL/ddI[g] = w_ig g,  g = 2 (pred - y) / B · (hi - lo) σ (1 - σ)
   * Returns the squared error (0 for a movie without features, which has no cold representation).
   */
  private coldItemStep(i: number, CI: Param, dI: Param, pu: Float64Array, bU: number, y: number, scale: number): number {
    const { offsets, indices, weights } = this.itf;
    if (offsets[i] === offsets[i + 1]) return 0;
    const k = this.nFactors;
    const c = this.ci;
    let x = composeInto(c, k, this.itf, i, undefined, CI.value, undefined, dI.value) + bU;
    for (let f = 0; f < k; f++) x += c[f]! * pu[f]!;
    const [lo, hi] = this.yRange;
    const s = 1 / (1 + Math.exp(-x));
    const err = s * (hi - lo) + lo - y;
    const g = scale * err * s * (1 - s);
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) {
      const gi = indices[t]!;
      const wg = weights[t]! * g;
      const gRow = gi * k;
      for (let f = 0; f < k; f++) CI.grad.data[gRow + f] += wg * pu[f]!;
      dI.grad.data[gi] += wg;
      CI.grad.touch(gi);
      dI.grad.touch(gi);
    }
    return err * err;
  }

  /**
   * A movie that never trained, from its metadata alone: the cold tables' c_i and bias (undefined without
   * cold tables or when the movie has no features).
   */
  coldItem(i: number): { vector: Float32Array; bias: number } | undefined {
    const cold = this.coldItemTables;
    if (!cold || this.itf.offsets[i] === this.itf.offsets[i + 1]) return undefined;
    const bias = composeInto(this.ci, this.nFactors, this.itf, i, undefined, cold.factors.value, undefined, cold.bias.value);
    return { vector: Float32Array.from(this.ci), bias };
  }

  /** Predicted rating of dense (user, item), from ids and features (features alone for a cold user or item). */
  predict(user: number, item: number): number {
    const k = this.nFactors;
    let x = this.composeUser(user) + this.composeScoredItem(item);
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
      bias[i] = this.composeScoredItem(i);
      for (let f = 0; f < k; f++) factors[i * k + f] = this.qi[f]!;
    }
    return { factors, bias };
  }

  /**
   * Scoring over the composed tables: every user's p̃_u, b̃_u and every movie's q̃_i, b̃_i (copies), scored
   * as dotbias scores, lo + (hi - lo) sigmoid(b̃_u + b̃_i + p̃_u·q̃_i).
   */
  factorScoring(): FactorScoring {
    const k = this.nFactors;
    const { factors: Q, bias: bi } = this.itemRepresentations();
    const P = new Float32Array(this.nUsers * k);
    const bu = new Float32Array(this.nUsers);
    for (let u = 0; u < this.nUsers; u++) {
      bu[u] = this.composeUser(u);
      P.set(this.pu, u * k);
    }
    return { k, P, Q, bu, bi, offset: 0, yRange: this.yRange, clip: [-Infinity, Infinity] };
  }

  /** User u's composed representation p̃_u, b̃_u. */
  userRepresentation(u: number): { vector: Float32Array; bias: number } {
    requireInt('user', u, 0, this.nUsers - 1);
    const bias = this.composeUser(u);
    return { vector: Float32Array.from(this.pu), bias };
  }

  /**
   * Every item's pick representation: q'_i (nItems × pickFactors) and b'_i, so that a user's pick score of
   * item i is b'_i + p'_u·q'_i (see {@link PickHead}). Undefined without a pick head.
   */
  pickItemRepresentations(): { factors: Float32Array; bias: Float32Array; k: number } | undefined {
    const pick = this.pick;
    if (!pick) return undefined;
    const k = pick.nFactors;
    const row = new Float64Array(k);
    const factors = new Float32Array(this.nItems * k);
    const bias = new Float32Array(this.nItems);
    for (let i = 0; i < this.nItems; i++) {
      bias[i] = pick.composeItem(i, row);
      for (let f = 0; f < k; f++) factors[i * k + f] = row[f]!;
    }
    return { factors, bias, k };
  }

  /** User u's pick representation p'_u (undefined without a pick head). */
  pickUserRepresentation(u: number): Float32Array | undefined {
    requireInt('user', u, 0, this.nUsers - 1);
    if (!this.pick) return undefined;
    const row = new Float64Array(this.pick.nFactors);
    this.pick.composeUser(u, row);
    return Float32Array.from(row);
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
