import { CollabError } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';

/** How many of something in the test data the model never trained on. */
export interface UnknownCount {
  unknown: number;
  total: number;
}

/** How much of a test set is unknown to a model: distinct users and movies, and the ratings they carry. */
export interface UnknownShare {
  /** Distinct test users with no training rating. */
  users: UnknownCount;
  /** Distinct test movies with no training rating. */
  movies: UnknownCount;
  /** Test ratings whose user has no training rating. */
  userRatings: UnknownCount;
  /** Test ratings whose movie has no training rating. */
  movieRatings: UnknownCount;
  /** Set when the share passes the limit: the warning the CLI prints. */
  warning?: string;
}

/**
 * Above this share of test ratings from unknown users, or of unknown movies, the test data is probably
 * not the data the model was trained on. Counted by ratings, not by distinct ids: a random split always
 * leaves a few rare movies (one rating each) out of training, which is no sign of foreign data.
 */
export const UNKNOWN_SHARE_LIMIT = 0.05;

/**
 * Counts the test users and movies with no training rating. Ids are matched raw, so `test` may have its
 * own id maps or share the training ones; a model saved without its training ratings counts an id as
 * known when its id map holds it.
 */
export function unknownShare(train: Ratings, test: Ratings, limit = UNKNOWN_SHARE_LIMIT): UnknownShare {
  const byRatings = train.ratings.length > 0;
  const trained = (col: Int32Array, size: number): Uint8Array => {
    const seen = new Uint8Array(size);
    if (byRatings) for (let t = 0; t < col.length; t++) seen[col[t]!] = 1;
    else seen.fill(1);
    return seen;
  };
  const side = (testCol: Int32Array, testIds: Ratings['userIds'], trainCol: Int32Array, trainIds: Ratings['userIds']) => {
    const seen = trained(trainCol, trainIds.size);
    const known = new Int8Array(testIds.size).fill(-1); // -1 = id absent from the test column
    const distinct = { unknown: 0, total: 0 };
    const ratings = { unknown: 0, total: testCol.length };
    for (let t = 0; t < testCol.length; t++) {
      const x = testCol[t]!;
      if (known[x] === -1) {
        const i = trainIds.indexOf(testIds.idOf(x));
        known[x] = i >= 0 && seen[i] === 1 ? 1 : 0;
        distinct.total++;
        if (known[x] === 0) distinct.unknown++;
      }
      if (known[x] === 0) ratings.unknown++;
    }
    return { distinct, ratings };
  };
  const u = side(test.users, test.userIds, train.users, train.userIds);
  const m = side(test.items, test.itemIds, train.items, train.itemIds);
  const share: UnknownShare = { users: u.distinct, movies: m.distinct, userRatings: u.ratings, movieRatings: m.ratings };
  const over = (c: UnknownCount): boolean => c.total > 0 && c.unknown / c.total > limit;
  if (over(share.userRatings) || over(share.movieRatings)) share.warning = describeUnknown(share);
  return share;
}

const pct = (c: UnknownCount): string => `${c.total === 0 ? 0 : Math.round((1000 * c.unknown) / c.total) / 10}%`;

function describeUnknown(s: UnknownShare): string {
  return (
    `the model never trained on ${s.users.unknown} of the ${s.users.total} test users (${pct(s.userRatings)} of the test ratings) ` +
    `and ${s.movies.unknown} of the ${s.movies.total} test movies (${pct(s.movieRatings)} of the test ratings): ` +
    'is this test data from the dataset the model was trained on? Their ratings are predicted as the training mean'
  );
}

/**
 * The CLI's check where a model meets test data it may not belong to: the warning line when too much
 * is unknown, or, with `strict`, a BAD_FILE error naming the test file.
 */
export function checkUnknownShare(share: UnknownShare, testFile: string, strict: boolean): string | undefined {
  if (share.warning === undefined) return undefined;
  if (strict) throw new CollabError('BAD_FILE', `${share.warning} (refused under --strict)`, { file: testFile });
  return `warning: ${share.warning}`;
}
