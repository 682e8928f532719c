import { requireInt, requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import { checkIndices, userItemsCsr, type RatingColumns, type UserItemsCsr } from '../data/user-items.js';

/**
 * The top-N evaluation protocol, as plain functions over rating columns:
 * - candidates for user u: every item u did not rate in training (so train items are excluded from u's list);
 * - relevant for user u: the items u rated ≥ threshold (default 4) in the test set;
 * - users with no relevant test item are skipped by the metrics and counted.
 * Train and test must share dense indices (the same IdMaps, as `selectRows` and the splitters give).
 */
export const PROTOCOL_DESCRIPTION =
  'Ranking protocol: for each user, candidates are all items the user did not rate in training; ' +
  'relevant items are the user\'s test ratings >= threshold (default 4); users with no relevant test ' +
  'item are skipped and counted; metrics are averaged over the remaining users.';

/** Options of `rankingProtocol`. */
export interface ProtocolOptions {
  /** A test rating ≥ threshold is relevant. Default 4. */
  threshold?: number;
  /** Number of users (dense indices 0..nUsers-1). Default: train.userIds.size when train is a Ratings, else 1 + the largest index seen. */
  nUsers?: number;
  /** Number of items. Default: train.itemIds.size when train is a Ratings, else 1 + the largest index seen. */
  nItems?: number;
}

/** Everything a ranking evaluation needs, built once per split. */
export interface RankingProtocol {
  threshold: number;
  nUsers: number;
  nItems: number;
  /** Each user's training items (the exclusion list of their top-k). */
  trainItems: UserItemsCsr;
  /** Each user's relevant test items; undefined for users with none. */
  relevant: (Set<number> | undefined)[];
  /** Users with at least one relevant test item, ascending: the users to recommend for. */
  users: Int32Array;
  /** Users that have test ratings but none ≥ threshold. */
  skippedUsers: number;
}

function maxPlusOne(a: Int32Array): number {
  let m = -1;
  for (let r = 0; r < a.length; r++) if (a[r]! > m) m = a[r]!;
  return m + 1;
}

/** Each user's test items rated ≥ threshold, as sets indexed by user (undefined when none). */
export function relevantByUser(test: RatingColumns, nUsers: number, threshold = 4): (Set<number> | undefined)[] {
  requireInt('nUsers', nUsers, 0);
  requireNumber('threshold', threshold);
  checkIndices('user', test.users, nUsers, 'test.users');
  const relevant: (Set<number> | undefined)[] = new Array(nUsers).fill(undefined);
  for (let r = 0; r < test.ratings.length; r++) {
    if (test.ratings[r]! < threshold) continue;
    const u = test.users[r]!;
    (relevant[u] ??= new Set<number>()).add(test.items[r]!);
  }
  return relevant;
}

/** Builds the protocol of one train/test split: train exclusion lists, relevant sets and the users to evaluate. */
export function rankingProtocol(train: RatingColumns | Ratings, test: RatingColumns | Ratings, options: ProtocolOptions = {}): RankingProtocol {
  const threshold = options.threshold ?? 4;
  requireNumber('threshold', threshold);
  const nUsers =
    options.nUsers ?? ('userIds' in train ? train.userIds.size : Math.max(maxPlusOne(train.users), maxPlusOne(test.users)));
  const nItems =
    options.nItems ?? ('itemIds' in train ? train.itemIds.size : Math.max(maxPlusOne(train.items), maxPlusOne(test.items)));
  requireInt('nUsers', nUsers, 0);
  requireInt('nItems', nItems, 0);
  checkIndices('item', train.items, nItems, 'train.items');
  checkIndices('item', test.items, nItems, 'test.items');
  const trainItems = userItemsCsr(train.users, train.items, nUsers);
  const relevant = relevantByUser(test, nUsers, threshold);
  const hasTest = new Uint8Array(nUsers);
  for (let r = 0; r < test.users.length; r++) hasTest[test.users[r]!] = 1;
  let nEval = 0;
  let skippedUsers = 0;
  for (let u = 0; u < nUsers; u++) {
    if (relevant[u] !== undefined) nEval++;
    else if (hasTest[u] === 1) skippedUsers++;
  }
  const users = new Int32Array(nEval);
  let c = 0;
  for (let u = 0; u < nUsers; u++) if (relevant[u] !== undefined) users[c++] = u;
  return { threshold, nUsers, nItems, trainItems, relevant, users, skippedUsers };
}
