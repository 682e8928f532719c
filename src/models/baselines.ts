import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { RatingColumns } from '../data/user-items.js';

/**
 * Reference predictors every model should beat.
 *
 * Bias baseline (Surprise's BaselineOnly with method 'als'): pred(u, i) = mu + b_u + b_i, minimising
 *   Σ (r - mu - b_u - b_i)² + regUser Σ b_u² + regItem Σ b_i²
 * by alternating closed-form updates, items first, from b = 0, for `epochs` rounds:
 *   b_i = Σ_{u ∈ R(i)} (r_ui - mu - b_u) / (regItem + |R(i)|)
 *   b_u = Σ_{i ∈ R(u)} (r_ui - mu - b_i) / (regUser + |R(u)|)
 * Defaults are Surprise's: regItem 10, regUser 15, 10 epochs. mu is the plain mean of the training ratings.
 */

/** Options of `fitBiasBaseline`. */
export interface BaselineOptions {
  /** Shrinkage of user biases. Default 15. */
  regUser?: number;
  /** Shrinkage of item biases. Default 10. */
  regItem?: number;
  /** Alternating rounds (one item pass then one user pass each). Default 10. */
  epochs?: number;
}

/** A fitted bias baseline. */
export interface BiasBaseline {
  mu: number;
  /** b_u per user index. */
  userBias: Float32Array;
  /** b_i per item index. */
  itemBias: Float32Array;
}

/** Mean of the ratings (float64 sum); NaN when there are none. */
export function globalMean(ratings: Float32Array): number {
  if (ratings.length === 0) return NaN;
  let sum = 0;
  for (let r = 0; r < ratings.length; r++) sum += ratings[r]!;
  return sum / ratings.length;
}

function checkColumns(data: RatingColumns, nUsers: number, nItems: number): void {
  const n = data.ratings.length;
  if (data.users.length !== n || data.items.length !== n) {
    throw new CollabError('INVALID_OPTION', `rating columns differ in length (users ${data.users.length}, items ${data.items.length}, ratings ${n})`, { field: 'ratings' });
  }
  for (let r = 0; r < n; r++) {
    const u = data.users[r]!;
    const i = data.items[r]!;
    if (u < 0 || u >= nUsers || i < 0 || i >= nItems) {
      throw new CollabError('INVALID_OPTION', `rating row ${r} has (user ${u}, item ${i}) outside ${nUsers} users × ${nItems} items; pass the sizes of the id maps`, { field: 'ratings' });
    }
  }
}

/** Fits mu + b_u + b_i by regularised alternating least squares (see the file comment). */
export function fitBiasBaseline(data: RatingColumns, nUsers: number, nItems: number, options: BaselineOptions = {}): BiasBaseline {
  requireInt('nUsers', nUsers, 0);
  requireInt('nItems', nItems, 0);
  const regUser = requireNumber('regUser', options.regUser ?? 15, 0);
  const regItem = requireNumber('regItem', options.regItem ?? 10, 0);
  const epochs = requireInt('epochs', options.epochs ?? 10, 1);
  checkColumns(data, nUsers, nItems);
  const { users, items, ratings } = data;
  const n = ratings.length;
  const mu = n === 0 ? 0 : globalMean(ratings);
  const bu = new Float64Array(nUsers);
  const bi = new Float64Array(nItems);
  const devU = new Float64Array(nUsers);
  const devI = new Float64Array(nItems);
  const cntU = new Float64Array(nUsers);
  const cntI = new Float64Array(nItems);
  for (let r = 0; r < n; r++) {
    cntU[users[r]!]!++;
    cntI[items[r]!]!++;
  }
  // `|| 0`: with zero shrinkage, an item or user without ratings would get 0/0; its bias is 0
  for (let epoch = 0; epoch < epochs; epoch++) {
    // b_i = Σ (r - mu - b_u) / (regItem + |R(i)|)
    devI.fill(0);
    for (let r = 0; r < n; r++) devI[items[r]!]! += ratings[r]! - mu - bu[users[r]!]!;
    for (let i = 0; i < nItems; i++) bi[i] = devI[i]! / (regItem + cntI[i]!) || 0;
    // b_u = Σ (r - mu - b_i) / (regUser + |R(u)|)
    devU.fill(0);
    for (let r = 0; r < n; r++) devU[users[r]!]! += ratings[r]! - mu - bi[items[r]!]!;
    for (let u = 0; u < nUsers; u++) bu[u] = devU[u]! / (regUser + cntU[u]!) || 0;
  }
  return { mu, userBias: Float32Array.from(bu), itemBias: Float32Array.from(bi) };
}

/**
 * Baseline predictions for many (user, item) pairs into `out`. An index outside the fitted tables
 * (e.g. -1 for an id unseen in training) contributes a bias of 0, so an unknown pair gets mu.
 */
export function predictBaseline(b: BiasBaseline, users: Int32Array, items: Int32Array, out: Float32Array): void {
  const nU = b.userBias.length;
  const nI = b.itemBias.length;
  for (let r = 0; r < out.length; r++) {
    const u = users[r]!;
    const i = items[r]!;
    const bu = u >= 0 && u < nU ? b.userBias[u]! : 0;
    const bi = i >= 0 && i < nI ? b.itemBias[i]! : 0;
    out[r] = b.mu + bu + bi;
  }
}

/** The global-mean predictor's output for n pairs: mu everywhere. */
export function predictGlobalMean(mu: number, n: number): Float32Array {
  return new Float32Array(n).fill(mu);
}

/**
 * Popularity scores: the number of training ratings of each item (ratings ≥ minRating only, when given).
 * Ranking by these (ties by lower index) with the user's training items excluded is the popularity
 * recommender: `topKForUser(popularityScores(...), k, itemsOfUser(train, u))`.
 */
export function popularityScores(items: Int32Array, nItems: number, ratings?: Float32Array, minRating = -Infinity): Float32Array {
  requireInt('nItems', nItems, 0);
  const counts = new Float32Array(nItems);
  for (let r = 0; r < items.length; r++) {
    const i = items[r]!;
    if (i < 0 || i >= nItems) {
      throw new CollabError('INVALID_OPTION', `items row ${r} has item index ${i}, outside 0..${nItems - 1}; pass nItems of the id map`, { field: 'items' });
    }
    if (ratings !== undefined && ratings[r]! < minRating) continue;
    counts[i]!++;
  }
  return counts;
}

/** All item indices from most to least rated (ties by lower index). */
export function popularityRanking(items: Int32Array, nItems: number): Int32Array {
  const counts = popularityScores(items, nItems);
  const order = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) order[i] = i;
  return order.sort((a, b) => counts[b]! - counts[a]! || a - b);
}
