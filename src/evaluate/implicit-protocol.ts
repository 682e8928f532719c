import { requireInt } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import { rankingProtocol, type RankingProtocol } from './protocol.js';
import { rankingReport, type RankingReport } from './ranking-metrics.js';

/**
 * The Microsoft Recommenders MovieLens ranking protocol (their benchmark notebook): ml-100k split by
 * `python_stratified_split(ratio=0.75, seed=42)` (collab's `stratifiedSplit`), each user's top k among
 * the movies they did not rate in training, every test rating relevant whatever its value, metrics
 * averaged over the users with test ratings.
 */
export const IMPLICIT_PROTOCOL_DESCRIPTION =
  'Implicit top-N protocol (Microsoft Recommenders): per-user stratified split; candidates are the movies a user did not rate in training; ' +
  'every test movie of the user is relevant (no rating threshold); means over users with test movies.';

/** The protocol of one split with every test rating relevant. */
export function implicitProtocol(train: Ratings, test: Ratings): RankingProtocol {
  return rankingProtocol(train, test, { threshold: -Number.MAX_VALUE });
}

/** Something that ranks: the k best unseen items of training user u, best first. */
export type TopNScorer = (u: number, k: number) => ArrayLike<number>;

/** collab's ranking report plus MAP as Microsoft Recommenders computes it. */
export interface TopNReport extends RankingReport {
  /**
   * Microsoft Recommenders' `map_at_k`: Σ over hit positions of precision@pos, divided by ALL of the
   * user's relevant items |R| (collab's `map` divides by min(k, |R|)), averaged over users.
   */
  mapRecommenders: number;
}

/**
 * Microsoft Recommenders' average precision of one list: Σ_{hit pos ≤ k} (hits so far / pos) / |R|;
 * NaN when nothing is relevant.
 */
export function averagePrecisionAllRelevant(recs: ArrayLike<number>, relevant: ReadonlySet<number>, k: number): number {
  requireInt('k', k, 1);
  if (relevant.size === 0) return NaN;
  const n = Math.min(k, recs.length);
  let hits = 0;
  let sum = 0;
  for (let pos = 1; pos <= n; pos++) {
    if (relevant.has(recs[pos - 1]!)) {
      hits++;
      sum += hits / pos;
    }
  }
  return sum / relevant.size;
}

/** Runs `recommend` for every evaluated user of the protocol and averages the ranking metrics at k. */
export function evaluateTopN(protocol: RankingProtocol, recommend: TopNScorer, k = 10): TopNReport {
  requireInt('k', k, 1);
  const recs: (ArrayLike<number> | undefined)[] = new Array(protocol.nUsers).fill(undefined);
  let apSum = 0;
  for (let t = 0; t < protocol.users.length; t++) {
    const u = protocol.users[t]!;
    const list = recommend(u, k);
    recs[u] = list;
    apSum += averagePrecisionAllRelevant(list, protocol.relevant[u]!, k);
  }
  const report = rankingReport(recs, protocol.relevant, k, protocol.nItems);
  return { ...report, mapRecommenders: protocol.users.length === 0 ? NaN : apSum / protocol.users.length };
}
