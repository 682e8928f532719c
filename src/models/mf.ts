import { RandomState } from '../core/random.js';
import { requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { DotFactors, Param, RatingModel } from './model.js';
import type { FactorScoring } from './scoring.js';
import { normal } from './init.js';
import { FactorModel, biasParams, dotRows } from './factor-kernels.js';

/** Options of {@link BiasedMF}. */
export interface MFOptions {
  /** Embedding width k. Default 50. */
  nFactors?: number;
  /** Global mean rating mu added to every prediction. Default 0 (the learner passes the training mean). */
  globalMean?: number;
  /** Predictions are clipped to [lo, hi]. Default [-Infinity, Infinity] (the learner passes the rating range). */
  clip?: [number, number];
  /** Std of the normal(0, initStd) factor init; biases start at 0. Default 0.1 (Surprise's SVD). */
  initStd?: number;
  /** Allocate tables on SharedArrayBuffer so worker threads can step them (minibatch optimizers). Default false. */
  shared?: boolean;
}

/**
 * Per-rating SGD over `order[start..end)` (Funk / Surprise SVD), updating the tables in place:
 *   err = y - (mu + bu[u] + bi[i] + P[u]·Q[i])
 *   bu[u] += lr (err - reg bu[u]);  bi[i] += lr (err - reg bi[i])
 *   P[u] += lr (err Q[i] - reg P[u]);  Q[i] += lr (err P[u] - reg Q[i])   (both from the old values)
 * Returns the sum of squared errors seen before each update. A free function so worker threads can run it
 * on shared tables without the class.
 */
export function funkSgd(
  P: Float32Array, Q: Float32Array, bu: Float32Array, bi: Float32Array, k: number, mu: number,
  users: Int32Array, items: Int32Array, ratings: Float32Array, order: Int32Array, start: number, end: number,
  lr: number, reg: number,
): number {
  let sse = 0;
  const keep = 1 - lr * reg;
  for (let r = start; r < end; r++) {
    const row = order[r]!;
    const u = users[row]!;
    const i = items[row]!;
    const uRow = u * k;
    const iRow = i * k;
    const pred = dotRows(P, uRow, Q, iRow, k, mu + bu[u]! + bi[i]!);
    const err = ratings[row]! - pred;
    sse += err * err;
    const step = lr * err;
    bu[u] = keep * bu[u]! + step;
    bi[i] = keep * bi[i]! + step;
    for (let f = 0; f < k; f++) {
      const pf = P[uRow + f]!;
      const qf = Q[iRow + f]!;
      P[uRow + f] = keep * pf + step * qf;
      Q[iRow + f] = keep * qf + step * pf;
    }
  }
  return sse;
}

/**
 * Plain biased matrix factorization, pred(u, i) = mu + bu[u] + bi[i] + P[u]·Q[i] (clipped to the rating range),
 * the classic Funk-SVD model. The learner trains it by per-rating SGD ({@link funkSgd}); `trainBatch` also gives
 * the minibatch gradient of mean (pred - y)^2 so any optimizer can drive it:
 *   dL/dP[u] = 2 (pred - y) / B * Q[i], dL/dQ[i] = 2 (pred - y) / B * P[u], dL/dbu[u] = dL/dbi[i] = 2 (pred - y) / B.
 */
export class BiasedMF extends FactorModel implements RatingModel {
  readonly kind = 'mf' as const;
  readonly globalMean: number;
  readonly clip: [number, number];
  readonly initStd: number;
  readonly shared: boolean;
  readonly userBias: Param;
  readonly itemBias: Param;
  readonly params: readonly Param[];

  constructor(nUsers: number, nItems: number, options: MFOptions = {}, seed = 42) {
    super(nUsers, nItems, options.nFactors, options.shared === true);
    this.globalMean = requireNumber('globalMean', options.globalMean ?? 0);
    this.initStd = requireNumber('initStd', options.initStd ?? 0.1, 0);
    const clip = options.clip ?? [-Infinity, Infinity];
    this.clip = [clip[0] ?? -Infinity, clip[1] ?? Infinity];
    this.shared = options.shared === true;
    [this.userBias, this.itemBias] = biasParams(nUsers, nItems, true, this.shared);
    this.params = [this.userFactors, this.itemFactors, this.userBias, this.itemBias];
    const rng = new RandomState(seed);
    normal(this.userFactors.value, rng, this.initStd);
    normal(this.itemFactors.value, rng, this.initStd);
  }

  /** Architecture hyperparameters, enough to rebuild the model with {@link createModel}. */
  config(): Record<string, unknown> {
    return {
      nFactors: this.nFactors,
      globalMean: this.globalMean,
      clip: this.clip.map((c) => (Number.isFinite(c) ? c : null)),
      initStd: this.initStd,
    };
  }

  /** Scoring: mu + bu[u] + bi[i] + P[u]·Q[i], clipped to the clip range. */
  factorScoring(): FactorScoring {
    return { k: this.nFactors, P: this.userFactors.value, Q: this.itemFactors.value, bu: this.userBias.value, bi: this.itemBias.value, offset: this.globalMean, yRange: undefined, clip: this.clip };
  }

  /** Per-rating SGD over `order[start..end)`; returns the sum of squared errors before each update. */
  sgd(data: Ratings, order: Int32Array, start: number, end: number, lr: number, reg: number): number {
    return funkSgd(
      this.userFactors.value, this.itemFactors.value, this.userBias.value, this.itemBias.value, this.nFactors,
      this.globalMean, data.users, data.items, data.ratings, order, start, end, lr, reg,
    );
  }

  /** Forward + backward of one minibatch (see the class doc for the gradient). */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number {
    const { users, items, ratings } = data;
    const k = this.nFactors;
    const mu = this.globalMean;
    const bu = this.userBias.value;
    const bi = this.itemBias.value;
    const gP = this.userFactors.grad;
    const gQ = this.itemFactors.grad;
    const gbu = this.userBias.grad;
    const gbi = this.itemBias.grad;
    const gbud = gbu.data;
    const gbid = gbi.data;
    const scale = 2 / (end - start);
    let sse = 0;
    for (let r = start; r < end; r++) {
      const row = order[r]!;
      const u = users[row]!;
      const i = items[row]!;
      const uRow = u * k;
      const iRow = i * k;
      const pred = this.dotPair(uRow, iRow, mu + bu[u]! + bi[i]!);
      const err = pred - ratings[row]!;
      sse += err * err;
      const g = scale * err;
      this.addPairGradient(uRow, iRow, g);
      gbud[u] += g;
      gbid[i] += g;
      gP.touch(u);
      gQ.touch(i);
      gbu.touch(u);
      gbi.touch(i);
    }
    return sse;
  }

  /**
   * The prediction before clipping as one dot product of width k + 2: [P[u], 1, mu + bu[u]] · [Q[i], bi[i], 1]
   * = P[u]·Q[i] + bi[i] + mu + bu[u] (copies; the model's own tables are untouched).
   */
  dotFactors(): DotFactors {
    const k = this.nFactors;
    const w = k + 2;
    const P = this.userFactors.value;
    const Q = this.itemFactors.value;
    const users = new Float32Array(this.nUsers * w);
    const items = new Float32Array(this.nItems * w);
    for (let u = 0; u < this.nUsers; u++) {
      users.set(P.subarray(u * k, (u + 1) * k), u * w);
      users[u * w + k] = 1;
      users[u * w + k + 1] = this.globalMean + this.userBias.value[u]!;
    }
    for (let i = 0; i < this.nItems; i++) {
      items.set(Q.subarray(i * k, (i + 1) * k), i * w);
      items[i * w + k] = this.itemBias.value[i]!;
      items[i * w + k + 1] = 1;
    }
    return { nFactors: w, users, items };
  }

  /** Predicted rating of dense (user, item), clipped to the rating range. */
  predict(user: number, item: number): number {
    const k = this.nFactors;
    const bias = this.globalMean + this.userBias.value[user]! + this.itemBias.value[item]!;
    const pred = dotRows(this.userFactors.value, user * k, this.itemFactors.value, item * k, k, bias);
    return pred < this.clip[0] ? this.clip[0] : pred > this.clip[1] ? this.clip[1] : pred;
  }
}
