import { RandomState } from '../core/random.js';
import { requireInt, requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { Param, RatingModel } from './model.js';
import { makeParam, uniform } from './init.js';

/** Options of {@link EmbeddingDot}. */
export interface DotOptions {
  /** Embedding width k. Default 50. */
  nFactors?: number;
  /** Upper end of the uniform(0, initMax) init. Default 0.05 (the blog). */
  initMax?: number;
  /** Allocate tables and gradients on SharedArrayBuffer (for training over two threads). Default false. */
  shared?: boolean;
}

/**
 * The blog's first model, EmbeddingDot: pred(u, i) = P[u]·Q[i], no bias, no output range.
 * Batch loss L = mean (pred - y)^2, so dL/dP[u] = 2 (pred - y) / B * Q[i] and dL/dQ[i] = 2 (pred - y) / B * P[u].
 */
export class EmbeddingDot implements RatingModel {
  readonly kind = 'dot' as const;
  readonly nFactors: number;
  readonly initMax: number;
  readonly userFactors: Param;
  readonly itemFactors: Param;
  readonly params: readonly Param[];

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    options: DotOptions = {},
    seed = 42,
  ) {
    requireInt('nUsers', nUsers, 1);
    requireInt('nItems', nItems, 1);
    this.nFactors = requireInt('nFactors', options.nFactors ?? 50, 1, 4096);
    this.initMax = requireNumber('initMax', options.initMax ?? 0.05, 0);
    const k = this.nFactors;
    const shared = options.shared === true;
    this.userFactors = makeParam('userFactors', nUsers, k, true, true, shared);
    this.itemFactors = makeParam('itemFactors', nItems, k, true, true, shared);
    this.params = [this.userFactors, this.itemFactors];
    const rng = new RandomState(seed);
    uniform(this.userFactors.value, rng, 0, this.initMax);
    uniform(this.itemFactors.value, rng, 0, this.initMax);
  }

  /** Architecture hyperparameters, enough to rebuild the model with {@link createModel}. */
  config(): Record<string, unknown> {
    return { nFactors: this.nFactors, initMax: this.initMax };
  }

  /** Forward + backward of one minibatch (see the class doc for the gradient). */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number {
    const { users, items, ratings } = data;
    const k = this.nFactors;
    const P = this.userFactors.value;
    const Q = this.itemFactors.value;
    const gP = this.userFactors.grad;
    const gQ = this.itemFactors.grad;
    const gPd = gP.data;
    const gQd = gQ.data;
    const scale = 2 / (end - start);
    let sse = 0;
    for (let r = start; r < end; r++) {
      const row = order[r]!;
      const u = users[row]!;
      const i = items[row]!;
      const uRow = u * k;
      const iRow = i * k;
      // pred = P[u]·Q[i]
      let pred = 0;
      for (let f = 0; f < k; f++) pred += P[uRow + f]! * Q[iRow + f]!;
      const err = pred - ratings[row]!;
      sse += err * err;
      const g = scale * err;
      for (let f = 0; f < k; f++) {
        gPd[uRow + f] += g * Q[iRow + f]!;
        gQd[iRow + f] += g * P[uRow + f]!;
      }
      gP.touch(u);
      gQ.touch(i);
    }
    return sse;
  }

  /** Predicted rating of dense (user, item). */
  predict(user: number, item: number): number {
    const k = this.nFactors;
    const P = this.userFactors.value;
    const Q = this.itemFactors.value;
    const uRow = user * k;
    const iRow = item * k;
    let pred = 0;
    for (let f = 0; f < k; f++) pred += P[uRow + f]! * Q[iRow + f]!;
    return pred;
  }

  /** Predictions for many dense pairs into `out`. */
  predictMany(users: Int32Array, items: Int32Array, out: Float32Array): void {
    for (let r = 0; r < users.length; r++) out[r] = this.predict(users[r]!, items[r]!);
  }
}
