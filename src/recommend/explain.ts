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
  const nItems = norms.length;
  if (!Number.isInteger(item) || item < 0 || item >= nItems) {
    throw new CollabError('INVALID_OPTION', `item ${item} is outside 0..${nItems - 1}; map the raw id to its dense index first`, { field: 'item' });
  }
  if (ratedItems.length !== ratedValues.length) {
    throw new CollabError('INVALID_OPTION', `ratedItems and ratedValues differ in length (${ratedItems.length} and ${ratedValues.length})`, { field: 'ratedValues' });
  }
  const aRow = item * nFactors;
  const na = norms[item]!;
  const reasons: Reason[] = [];
  for (let t = 0; t < ratedItems.length; t++) {
    const j = ratedItems[t]!;
    if (ratedValues[t]! < threshold || j === item) continue;
    if (j < 0 || j >= nItems) {
      throw new CollabError('INVALID_OPTION', `rated item ${j} is outside 0..${nItems - 1}`, { field: 'ratedItems' });
    }
    const jRow = j * nFactors;
    let dot = 0;
    for (let f = 0; f < nFactors; f++) dot += itemFactors[aRow + f]! * itemFactors[jRow + f]!;
    const denom = na * norms[j]!;
    reasons.push({ item: j, similarity: denom > 0 ? dot / denom : 0, rating: ratedValues[t]! });
  }
  reasons.sort((a, b) => b.similarity - a.similarity || a.item - b.item);
  return reasons.slice(0, n);
}
