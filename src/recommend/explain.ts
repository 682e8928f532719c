import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { cachedRowNorms } from './similar.js';

/** Options of `becauseYouLiked`. */
export interface BecauseYouLikedOptions {
  /** A rated item counts as liked when its rating ≥ threshold. Default 4. */
  threshold?: number;
  /** Reasons returned at most. Default 3. */
  n?: number;
}

/** One reason: a liked item, its cosine similarity to the recommended one, and the user's rating of it. */
export interface Reason {
  item: number;
  similarity: number;
  rating: number;
  /** How much this rating raised the recommended item's score (`becauseOfContributions` only). */
  contribution?: number;
}

/** Options of `becauseOfContributions`. */
export interface ContributionReasonOptions extends BecauseYouLikedOptions {
  /** A liked item is named only when its contribution is at least this share of the largest. Default 1/3. */
  minShare?: number;
}

/**
 * "Because you liked ...": among the user's rated items with rating ≥ threshold, the n most similar
 * to `item` by cosine on item factors (norms cached per table), best first, ties by lower index; the
 * recommended item itself is never its own reason. Empty when the user liked nothing.
 */
export function becauseYouLiked(
  itemFactors: Float32Array,
  nFactors: number,
  item: number,
  ratedItems: Int32Array,
  ratedValues: Float32Array,
  options: BecauseYouLikedOptions = {},
): Reason[] {
  const threshold = requireNumber('threshold', options.threshold ?? 4);
  const n = requireInt('n', options.n ?? 3, 1);
  const norms = cachedRowNorms(itemFactors, nFactors);
  checkItem(item, norms.length);
  if (ratedItems.length !== ratedValues.length) {
    throw new CollabError('INVALID_OPTION', `ratedItems and ratedValues differ in length (${ratedItems.length} and ${ratedValues.length})`, { field: 'ratedValues' });
  }
  const reasons: Reason[] = [];
  for (let t = 0; t < ratedItems.length; t++) {
    const j = ratedItems[t]!;
    if (ratedValues[t]! < threshold || j === item) continue;
    reasons.push({ item: j, similarity: cosine(itemFactors, nFactors, norms, item, j, 'ratedItems'), rating: ratedValues[t]! });
  }
  reasons.sort((a, b) => b.similarity - a.similarity || a.item - b.item);
  return reasons.slice(0, n);
}

/**
 * "Because you liked ..." for a folded-in visitor: the liked items (rating ≥ threshold) whose ratings
 * raised `item`'s score the most (`contributions[t]` is rating t's share, from `foldInContributions`),
 * largest first, at most n, and only those within `minShare` of the largest, so a pick names the one or
 * two movies that drive it rather than every movie the visitor liked. Empty when no liked rating raised it.
 */
export function becauseOfContributions(
  itemFactors: Float32Array,
  nFactors: number,
  item: number,
  ratedItems: Int32Array,
  ratedValues: Float32Array,
  contributions: Float64Array,
  options: ContributionReasonOptions = {},
): Reason[] {
  const threshold = requireNumber('threshold', options.threshold ?? 4);
  const n = requireInt('n', options.n ?? 3, 1);
  const minShare = requireNumber('minShare', options.minShare ?? 1 / 3, 0);
  const norms = cachedRowNorms(itemFactors, nFactors);
  checkItem(item, norms.length);
  if (ratedItems.length !== ratedValues.length || ratedItems.length !== contributions.length) {
    throw new CollabError('INVALID_OPTION', `ratedItems, ratedValues and contributions differ in length (${ratedItems.length}, ${ratedValues.length} and ${contributions.length})`, { field: 'contributions' });
  }
  const order: number[] = [];
  for (let t = 0; t < ratedItems.length; t++) if (ratedValues[t]! >= threshold && ratedItems[t] !== item && contributions[t]! > 0) order.push(t);
  order.sort((a, b) => contributions[b]! - contributions[a]! || ratedItems[a]! - ratedItems[b]!);
  const top = order.length > 0 ? contributions[order[0]!]! : 0;
  return order
    .filter((t) => contributions[t]! >= minShare * top)
    .slice(0, n)
    .map((t) => ({ item: ratedItems[t]!, similarity: cosine(itemFactors, nFactors, norms, item, ratedItems[t]!, 'ratedItems'), rating: ratedValues[t]!, contribution: contributions[t]! }));
}

function checkItem(item: number, nItems: number): void {
  if (!Number.isInteger(item) || item < 0 || item >= nItems) {
    throw new CollabError('INVALID_OPTION', `item ${item} is outside 0..${nItems - 1}; map the raw id to its dense index first`, { field: 'item' });
  }
}

/** Cosine of rows a and b of the factor table (0 when either is zero). */
function cosine(itemFactors: Float32Array, nFactors: number, norms: Float64Array | Float32Array, a: number, b: number, field: string): number {
  if (!Number.isInteger(b) || b < 0 || b >= norms.length) {
    throw new CollabError('INVALID_OPTION', `rated item ${b} is outside 0..${norms.length - 1}`, { field });
  }
  const aRow = a * nFactors;
  const bRow = b * nFactors;
  let dot = 0;
  for (let f = 0; f < nFactors; f++) dot += itemFactors[aRow + f]! * itemFactors[bRow + f]!;
  const denom = norms[a]! * norms[b]!;
  return denom > 0 ? dot / denom : 0;
}
