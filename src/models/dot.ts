import { RandomState } from '../core/random.js';
import { requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { DotFactors, Param, RatingModel } from './model.js';
import type { FactorScoring } from './scoring.js';
import { uniform } from './init.js';
import { FactorModel, dotRows, pairScale, type PairLink } from './factor-kernels.js';

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
export class EmbeddingDot extends FactorModel implements RatingModel {
  readonly kind = 'dot' as const;
  readonly initMax: number;
  readonly params: readonly Param[];

  constructor(nUsers: number, nItems: number, options: DotOptions = {}, seed = 42) {
    super(nUsers, nItems, options.nFactors, options.shared === true);
    this.initMax = requireNumber('initMax', options.initMax ?? 0.05, 0);
    this.params = [this.userFactors, this.itemFactors];
    const rng = new RandomState(seed);
    uniform(this.userFactors.value, rng, 0, this.initMax);
    uniform(this.itemFactors.value, rng, 0, this.initMax);
  }

  /** Architecture hyperparameters, enough to rebuild the model with {@link createModel}. */
  config(): Record<string, unknown> {
    return { nFactors: this.nFactors, initMax: this.initMax };
  }

  /** Scoring: the plain dot product P[u]·Q[i], unclipped. */
  factorScoring(): FactorScoring {
    return { k: this.nFactors, P: this.userFactors.value, Q: this.itemFactors.value, bu: undefined, bi: undefined, offset: 0, yRange: undefined, clip: [-Infinity, Infinity] };
  }

  /** The pair kernels' forward: no link (see FactorModel.pairTraining). */
  protected override pairLink(): PairLink | undefined {
    return undefined;
  }

  /** Forward + backward of one minibatch (see the class doc for the gradient). */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number {
    const scale = pairScale(undefined, end - start);
    // the whole batch in one wasm call where the kernels are; the same bits as the loop below
    const fused = this.pairBatch(data, order, start, end, scale);
    if (fused !== undefined) return fused;
    const { users, items, ratings } = data;
    const k = this.nFactors;
    const gP = this.userFactors.grad;
    const gQ = this.itemFactors.grad;
    let sse = 0;
    for (let r = start; r < end; r++) {
      const row = order[r]!;
      const u = users[row]!;
      const i = items[row]!;
      const uRow = u * k;
      const iRow = i * k;
      // pred = P[u]·Q[i]
      const pred = this.dotPair(uRow, iRow, 0);
      const err = pred - ratings[row]!;
      sse += err * err;
      // gP[u] += g Q[i], gQ[i] += g P[u] with g = dL/dpred = 2 err / B
      const g = scale * err;
      this.addPairGradient(uRow, iRow, g);
      gP.touch(u);
      gQ.touch(i);
    }
    return sse;
  }

  /** The P and Q tables: this model's prediction is exactly P[u]·Q[i]. */
  dotFactors(): DotFactors {
    return { nFactors: this.nFactors, users: this.userFactors.value, items: this.itemFactors.value };
  }

  /** Predicted rating of dense (user, item). */
  predict(user: number, item: number): number {
    const k = this.nFactors;
    return dotRows(this.userFactors.value, user * k, this.itemFactors.value, item * k, k);
  }
}
