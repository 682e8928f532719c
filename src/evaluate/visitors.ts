import { requireInt, requireNumber } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import type { GivenRating, Recommender } from '../recommend/types.js';
import { rankingReport, type RankingReport } from './ranking-metrics.js';

/** Options of {@link evaluateVisitors}. */
export interface VisitorOptions {
  /** Length of the ranked lists. Default 10. */
  k?: number;
  /** A test rating ≥ threshold makes the movie relevant (0: every test movie). Default 4. */
  threshold?: number;
}

/** How well a model serves people it never trained on, from a few of their ratings. */
export interface VisitorReport {
  ranking: RankingReport & { threshold: number };
  /** Users of the given file. */
  visitors: number;
  /** Visitors the model was trained with (they should be unknown to it; they are still folded in from the given ratings alone). */
  knownToModel: number;
  /** Visitors none of whose given movies the model knows: nothing to fold in, left out. */
  nothingKnown: number;
  /** Given and test ratings of movies the model does not know (left out, as the reference protocol does). */
  unknownMovies: { given: number; test: number };
}

/**
 * The new-visitor protocol (strong generalization): every user of `given` is folded in from their given
 * ratings alone, as the service does for an anonymous visitor, and their top k among the movies they did
 * not give (every movie the model knows, no popularity floor) is scored against their `test` movies rated
 * ≥ threshold. Raw ids link the two files and the model; each file may have its own id maps.
 */
export function evaluateVisitors(rec: Recommender, given: Ratings, test: Ratings, options: VisitorOptions = {}): VisitorReport {
  const k = requireInt('k', options.k ?? 10, 1);
  const threshold = requireNumber('threshold', options.threshold ?? 4);
  const dense = new Map<RawId, number>();
  rec.movies().forEach((m, i) => dense.set(m.itemId, i));
  const unknownMovies = { given: 0, test: 0 };
  const givenOf = new Map<RawId, GivenRating[]>();
  for (let r = 0; r < given.ratings.length; r++) {
    const userId = given.userIds.idOf(given.users[r]!);
    const itemId = given.itemIds.idOf(given.items[r]!);
    const list = givenOf.get(userId) ?? givenOf.set(userId, []).get(userId)!;
    if (dense.has(itemId)) list.push({ itemId, rating: given.ratings[r]! });
    else unknownMovies.given++;
  }
  const visitorIds = [...givenOf.keys()];
  const slot = new Map(visitorIds.map((id, v) => [id, v]));
  const relevant: (Set<number> | undefined)[] = new Array(visitorIds.length);
  for (let r = 0; r < test.ratings.length; r++) {
    const v = slot.get(test.userIds.idOf(test.users[r]!));
    if (v === undefined) continue;
    const i = dense.get(test.itemIds.idOf(test.items[r]!));
    if (i === undefined) unknownMovies.test++;
    else if (test.ratings[r]! >= threshold) (relevant[v] ??= new Set()).add(i);
  }
  const recs: (Int32Array | undefined)[] = new Array(visitorIds.length);
  let knownToModel = 0;
  let nothingKnown = 0;
  visitorIds.forEach((userId, v) => {
    if (rec.hasUser(userId)) knownToModel++;
    const ratings = givenOf.get(userId)!;
    if (ratings.length === 0) {
      nothingKnown++;
      relevant[v] = undefined;
      return;
    }
    const top = rec.recommendForRatings(ratings, { n: k, minRatings: 0 });
    recs[v] = Int32Array.from(top, (s) => dense.get(s.itemId)!);
  });
  return { ranking: { ...rankingReport(recs, relevant, k, dense.size), threshold }, visitors: visitorIds.length, knownToModel, nothingKnown, unknownMovies };
}
