import { requireInt, CollabError } from '../core/errors.js';

/**
 * Top-k ranking metrics for one user, with binary relevance.
 *
 * `recs` is the user's recommendation list, best first; only its first k entries count, and negative
 * entries are empty slots (a top-k list shorter than k is padded with -1). `relevant` is the set of item
 * indices that count as hits. With hits h_1..h_k (1 if recs[pos-1] is relevant, else 0) and R = |relevant|:
 *
 *   precision@k = Σ h_pos / k                   (divides by k even when fewer than k items were recommended)
 *   recall@k    = Σ h_pos / R
 *   DCG@k       = Σ h_pos / log2(pos + 1)       IDCG@k = Σ_{pos=1..min(k,R)} 1 / log2(pos + 1)
 *   nDCG@k      = DCG@k / IDCG@k
 *   AP@k        = Σ h_pos · precision@pos / min(k, R)     (MAP@k is its mean over users)
 *   hitRate@k   = 1 if any h_pos = 1, else 0
 *   RR@k        = 1 / (first pos with h_pos = 1), or 0 when no hit in the first k (MRR is its mean)
 *
 * A user with no relevant item has no defined recall, nDCG or AP: every per-user function returns NaN
 * for such a user and `rankingReport` skips (and counts) them. Lists are assumed free of duplicates.
 */

/** A user's relevant item indices. */
export type RelevantSet = ReadonlySet<number>;

/** The aggregate ranking figures of one evaluation (means over the users that have relevant items). */
export interface RankingReport {
  /** Cut-off. */
  k: number;
  /** Users averaged over (those with at least one relevant item). */
  users: number;
  /** Users with a recommendation list but no relevant item, left out of every mean. */
  skippedUsers: number;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  hitRate: number;
  mrr: number;
  /** Distinct items in the top k of any user's list (skipped users included) / nItems. */
  coverage: number;
}

/** 1 / log2(pos + 1) for pos = 1..k, the standard DCG discount. */
function discount(pos: number): number {
  return 1 / Math.log2(pos + 1);
}

function checkK(k: number): void {
  requireInt('k', k, 1);
}

/** Number of relevant items among the first k of recs. */
function hitsAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  const n = Math.min(k, recs.length);
  let hits = 0;
  for (let pos = 0; pos < n; pos++) {
    const i = recs[pos]!;
    if (i >= 0 && relevant.has(i)) hits++;
  }
  return hits;
}

/** precision@k = relevant items in the first k / k; NaN when the user has no relevant item. */
export function precisionAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  checkK(k);
  if (relevant.size === 0) return NaN;
  return hitsAtK(recs, relevant, k) / k;
}

/** recall@k = relevant items in the first k / |relevant|; NaN when the user has no relevant item. */
export function recallAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  checkK(k);
  if (relevant.size === 0) return NaN;
  return hitsAtK(recs, relevant, k) / relevant.size;
}

/** nDCG@k with the log2(pos + 1) discount and ideal DCG over min(k, |relevant|); NaN when nothing is relevant. */
export function ndcgAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  checkK(k);
  if (relevant.size === 0) return NaN;
  const n = Math.min(k, recs.length);
  let dcg = 0;
  for (let pos = 1; pos <= n; pos++) {
    const i = recs[pos - 1]!;
    if (i >= 0 && relevant.has(i)) dcg += discount(pos);
  }
  let idcg = 0;
  const ideal = Math.min(k, relevant.size);
  for (let pos = 1; pos <= ideal; pos++) idcg += discount(pos);
  return dcg / idcg;
}

/** AP@k = Σ over hit positions of precision@pos, divided by min(k, |relevant|); NaN when nothing is relevant. */
export function averagePrecisionAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  checkK(k);
  if (relevant.size === 0) return NaN;
  const n = Math.min(k, recs.length);
  let hits = 0;
  let sum = 0;
  for (let pos = 1; pos <= n; pos++) {
    const i = recs[pos - 1]!;
    if (i >= 0 && relevant.has(i)) {
      hits++;
      sum += hits / pos;
    }
  }
  return sum / Math.min(k, relevant.size);
}

/** hitRate@k: 1 when any of the first k is relevant, else 0; NaN when nothing is relevant. */
export function hitRateAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  checkK(k);
  if (relevant.size === 0) return NaN;
  return hitsAtK(recs, relevant, k) > 0 ? 1 : 0;
}

/** Reciprocal rank within the first k: 1 / position of the first relevant item, 0 if none; NaN when nothing is relevant. */
export function reciprocalRankAtK(recs: ArrayLike<number>, relevant: RelevantSet, k: number): number {
  checkK(k);
  if (relevant.size === 0) return NaN;
  const n = Math.min(k, recs.length);
  for (let pos = 1; pos <= n; pos++) {
    const i = recs[pos - 1]!;
    if (i >= 0 && relevant.has(i)) return 1 / pos;
  }
  return 0;
}

/**
 * Catalogue coverage: the share of the nItems items that appear in the first k of at least one list.
 * NaN when nItems is 0. Item indices outside [0, nItems) are refused.
 */
export function catalogueCoverage(recs: readonly (ArrayLike<number> | undefined)[], k: number, nItems: number): number {
  checkK(k);
  requireInt('nItems', nItems, 0);
  if (nItems === 0) return NaN;
  const seen = new Uint8Array(nItems);
  let distinct = 0;
  for (let u = 0; u < recs.length; u++) {
    const list = recs[u];
    if (list === undefined) continue;
    const n = Math.min(k, list.length);
    for (let pos = 0; pos < n; pos++) {
      const i = list[pos]!;
      if (i < 0) continue;
      if (i >= nItems) {
        throw new CollabError('INVALID_OPTION', `user ${u}'s list has item index ${i}, outside 0..${nItems - 1}; pass nItems of the model that made the lists`, { field: 'recs' });
      }
      if (seen[i] === 0) {
        seen[i] = 1;
        distinct++;
      }
    }
  }
  return distinct / nItems;
}

/**
 * Every ranking metric at cut-off k, averaged over users: recs[u] is user u's list (best first),
 * relevant[u] that user's relevant items. Users whose relevant set is missing or empty are skipped and
 * counted in `skippedUsers` (only those that have a list); a user with relevant items but no list scores 0.
 * With no user to average over, the means are NaN.
 */
export function rankingReport(
  recs: readonly (ArrayLike<number> | undefined)[],
  relevant: readonly (RelevantSet | undefined)[],
  k: number,
  nItems: number,
): RankingReport {
  checkK(k);
  const empty: number[] = [];
  const nUsers = Math.max(recs.length, relevant.length);
  let users = 0;
  let skippedUsers = 0;
  let precision = 0;
  let recall = 0;
  let ndcg = 0;
  let map = 0;
  let hitRate = 0;
  let mrr = 0;
  for (let u = 0; u < nUsers; u++) {
    const rel = relevant[u];
    const list = recs[u];
    if (rel === undefined || rel.size === 0) {
      if (list !== undefined) skippedUsers++;
      continue;
    }
    const l = list ?? empty;
    users++;
    precision += precisionAtK(l, rel, k);
    recall += recallAtK(l, rel, k);
    ndcg += ndcgAtK(l, rel, k);
    map += averagePrecisionAtK(l, rel, k);
    hitRate += hitRateAtK(l, rel, k);
    mrr += reciprocalRankAtK(l, rel, k);
  }
  const mean = (s: number): number => (users === 0 ? NaN : s / users);
  return {
    k,
    users,
    skippedUsers,
    precision: mean(precision),
    recall: mean(recall),
    ndcg: mean(ndcg),
    map: mean(map),
    hitRate: mean(hitRate),
    mrr: mean(mrr),
    coverage: catalogueCoverage(recs, k, nItems),
  };
}
