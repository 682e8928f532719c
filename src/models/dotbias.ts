import { RandomState } from '../core/random.js';
import { requireNumber, CollabError } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { Param, RatingModel } from './model.js';
import { truncNormal } from './init.js';
import { FactorModel, dotRows, pairScale } from './factor-kernels.js';
import type { FactorScoring } from './scoring.js';
import type { PairLink } from './factor-kernels.js';

/** Options of {@link EmbeddingDotBias}. */
export interface DotBiasOptions {
  /** Embedding width k. Default 50. */
  nFactors?: number;
  /** Output range [lo, hi] of the scaled sigmoid. Default [0, 5.5] (callers pass the data's range). */
  yRange?: [number, number];
  /** Init std of the trunc-normal embeddings and biases. Default 0.01 (fastai). */
  initStd?: number;
  /** Whether weight decay applies to the bias tables too (fastai: yes). Default true. */
  biasDecay?: boolean;
  /** Allocate tables and gradients on SharedArrayBuffer (for training over two threads). Default false. */
  shared?: boolean;
}

/**
 * fastai's EmbeddingDotBias:
 *   pred(u, i) = sigmoid(P[u]·Q[i] + bu[u] + bi[i]) * (hi - lo) + lo.
 * With x the sigmoid's argument and s = sigmoid(x), the batch loss L = mean (pred - y)^2 has
 *   dL/dx = 2 (pred - y) / B * (hi - lo) * s (1 - s),
 *   dL/dP[u] = dL/dx * Q[i],  dL/dQ[i] = dL/dx * P[u],  dL/dbu[u] = dL/dbi[i] = dL/dx.
 */
export class EmbeddingDotBias extends FactorModel implements RatingModel {
  readonly kind = 'dotbias' as const;
  readonly yRange: [number, number];
  /** The output link of the batch kernels: the sigmoid scaled to yRange. */
  readonly link: PairLink;
  readonly initStd: number;
  readonly biasDecay: boolean;
  readonly userBias: Param;
  readonly itemBias: Param;
  readonly params: readonly Param[];

  constructor(nUsers: number, nItems: number, options: DotBiasOptions = {}, seed = 42) {
    const shared = options.shared === true;
    const biasDecay = options.biasDecay ?? true;
    super(nUsers, nItems, options.nFactors, shared, biasDecay);
    this.initStd = requireNumber('initStd', options.initStd ?? 0.01, 0);
    const yRange = options.yRange ?? [0, 5.5];
    if (!(yRange[1] > yRange[0])) {
      throw new CollabError('INVALID_OPTION', `yRange must be [lo, hi] with hi > lo, got [${yRange.join(', ')}]`, { field: 'yRange' });
    }
    this.yRange = [yRange[0], yRange[1]];
    this.link = { lo: yRange[0], span: yRange[1] - yRange[0] };
    this.biasDecay = biasDecay;
    [this.userBias, this.itemBias] = this.biasTables!;
    this.params = [this.userFactors, this.itemFactors, this.userBias, this.itemBias];
    // The init order follows torch_collab.py: user weights, item weights, user bias, item bias.
    const rng = new RandomState(seed);
    for (const p of this.params) truncNormal(p.value, rng, this.initStd);
  }

  /** Architecture hyperparameters, enough to rebuild the model with {@link createModel}. */
  config(): Record<string, unknown> {
    return { nFactors: this.nFactors, yRange: [...this.yRange], initStd: this.initStd, biasDecay: this.biasDecay };
  }

  /** Scoring: sigmoid(P[u]·Q[i] + bu[u] + bi[i]) scaled to yRange, over the live tables. */
  factorScoring(): FactorScoring {
    return { k: this.nFactors, P: this.userFactors.value, Q: this.itemFactors.value, bu: this.userBias.value, bi: this.itemBias.value, offset: 0, yRange: this.yRange, clip: [-Infinity, Infinity] };
  }

  /** The pair kernels' forward: the scaled sigmoid (see FactorModel.pairTraining). */
  protected override pairLink(): PairLink | undefined {
    return this.link;
  }

  /** Forward + backward of one minibatch (see the class doc for the gradient). */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number {
    const [lo, hi] = this.yRange;
    const span = hi - lo;
    const scale = pairScale(this.link, end - start);
    // the whole batch in one wasm call where the kernels are; the same bits as the loop below
    const fused = this.pairBatch(data, order, start, end, scale);
    if (fused !== undefined) return fused;
    const { users, items, ratings } = data;
    const k = this.nFactors;
    const P = this.userFactors.value;
    const Q = this.itemFactors.value;
    const bu = this.userBias.value;
    const bi = this.itemBias.value;
    const gP = this.userFactors.grad;
    const gQ = this.itemFactors.grad;
    const gbu = this.userBias.grad;
    const gbi = this.itemBias.grad;
    const gbud = gbu.data;
    const gbid = gbi.data;
    let sse = 0;
    for (let r = start; r < end; r++) {
      const row = order[r]!;
      const u = users[row]!;
      const i = items[row]!;
      const uRow = u * k;
      const iRow = i * k;
      // x = P[u]·Q[i] + bu[u] + bi[i]
      const x = this.dotPair(uRow, iRow, bu[u]! + bi[i]!);
      const s = 1 / (1 + Math.exp(-x));
      const pred = s * span + lo;
      const err = pred - ratings[row]!;
      sse += err * err;
      // dL/dx = 2 err / B * (hi - lo) * s (1 - s)
      const g = scale * err * s * (1 - s);
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

  /** Predicted rating of dense (user, item). */
  predict(user: number, item: number): number {
    const k = this.nFactors;
    const bias = this.userBias.value[user]! + this.itemBias.value[item]!;
    const x = dotRows(this.userFactors.value, user * k, this.itemFactors.value, item * k, k, bias);
    return (1 / (1 + Math.exp(-x))) * (this.yRange[1] - this.yRange[0]) + this.yRange[0];
  }
}
