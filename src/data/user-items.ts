import { CollabError, requireInt } from '../core/errors.js';
import type { Ratings } from './ratings.js';

/** The rating columns most consumers need (a full `Ratings` fits). */
export type RatingColumns = Pick<Ratings, 'users' | 'items' | 'ratings'>;

/**
 * Items per user in compressed sparse rows: user u's items are items[offsets[u] .. offsets[u+1]),
 * sorted ascending without duplicates, ready to be an exclusion list for top-k.
 */
export interface UserItemsCsr {
  nUsers: number;
  /** nUsers + 1 row starts. */
  offsets: Int32Array;
  /** Item indices, row after row. */
  items: Int32Array;
}

/** Throws INVALID_OPTION naming `field` and the row when an index in `a` is outside 0..n-1. */
export function checkIndices(what: 'user' | 'item', a: Int32Array, n: number, field: string): void {
  for (let r = 0; r < a.length; r++) {
    const x = a[r]!;
    if (x < 0 || x >= n) {
      throw new CollabError(
        'INVALID_OPTION',
        `${field} row ${r} has ${what} index ${x}, outside 0..${n - 1}; train and test must share one id map (split one Ratings with selectRows)`,
        { field },
      );
    }
  }
}

/** An index already built, with the columns it was built from. */
interface BuiltIndex {
  kind: 'items' | 'ratings';
  columns: readonly (Int32Array | Float32Array)[];
  nUsers: number;
  hash: number;
  index: UserItemsCsr | UserRatingsCsr;
}

/**
 * Indexes built so far, by users column. The model, the protocol, the seen-filter, the recommender and
 * the evaluators each ask for the index of the same training columns; keeping it here makes that one
 * build per dataset without threading it through every call. A WeakMap, so an index lives as long as its data.
 */
const built = new WeakMap<Int32Array, BuiltIndex[]>();

/** A 32-bit FNV-1a hash of the columns' bits: a column changed in place since the build means a new index. */
function columnsHash(columns: readonly (Int32Array | Float32Array)[]): number {
  let h = 0x811c9dc5;
  for (const c of columns) {
    const bits = c instanceof Int32Array ? c : new Int32Array(c.buffer, c.byteOffset, c.length);
    for (let r = 0; r < bits.length; r++) h = Math.imul(h ^ bits[r]!, 0x01000193);
  }
  return h >>> 0;
}

function checkLengths(users: Int32Array, items: Int32Array, ratings?: Float32Array): void {
  if (users.length !== items.length) {
    throw new CollabError('INVALID_OPTION', `users and items columns must have the same length, got ${users.length} and ${items.length}`, { field: 'items' });
  }
  if (ratings !== undefined && ratings.length !== users.length) {
    throw new CollabError('INVALID_OPTION', `users and ratings columns must have the same length, got ${users.length} and ${ratings.length}`, { field: 'ratings' });
  }
}

/** The index of `kind` over these columns: the one built before when they are unchanged, else a new one. */
function once<T extends UserItemsCsr | UserRatingsCsr>(kind: BuiltIndex['kind'], users: Int32Array, rest: readonly (Int32Array | Float32Array)[], nUsers: number, build: () => T): T {
  const columns = [users, ...rest];
  const hash = columnsHash(columns);
  const earlier = built.get(users) ?? [];
  const hit = earlier.find((b) => b.kind === kind && b.nUsers === nUsers && b.hash === hash && b.columns.every((c, j) => c === columns[j]));
  if (hit) return hit.index as T;
  const index = build();
  // keep only indexes that still match their columns, so a column edited in place does not pile them up
  built.set(users, [...earlier.filter((b) => b.hash === columnsHash(b.columns)), { kind, columns, nUsers, hash, index }]);
  return index;
}

/**
 * The per-user CSR of (users[r], items[r]) pairs: rows sorted ascending, duplicates dropped. Built once
 * per (users, items, nUsers) columns and shared afterwards, so callers must treat it as read-only.
 */
export function userItemsCsr(users: Int32Array, items: Int32Array, nUsers: number): UserItemsCsr {
  requireInt('nUsers', nUsers, 0);
  checkLengths(users, items);
  return once('items', users, [items], nUsers, () => buildUserItemsCsr(users, items, nUsers));
}

/**
 * Ratings per user in compressed sparse rows: user u's ratings are items[offsets[u] .. offsets[u+1])
 * with their values in `ratings` at the same positions, items ascending (equal items keep row order).
 */
export interface UserRatingsCsr {
  nUsers: number;
  /** nUsers + 1 row starts. */
  offsets: Int32Array;
  /** Item indices, row after row. */
  items: Int32Array;
  /** The rating of each entry of `items`. */
  ratings: Float32Array;
}

/**
 * The per-user CSR of a ratings table, every row kept: what a recommender reads for a user's history and
 * fold-in. Built once per (users, items, ratings, nUsers) columns and shared, so treat it as read-only.
 */
export function userRatingsCsr(r: RatingColumns, nUsers: number): UserRatingsCsr {
  requireInt('nUsers', nUsers, 0);
  checkLengths(r.users, r.items, r.ratings);
  return once('ratings', r.users, [r.items, r.ratings], nUsers, () => buildUserRatingsCsr(r, nUsers));
}

function buildUserRatingsCsr(r: RatingColumns, nUsers: number): UserRatingsCsr {
  checkIndices('user', r.users, nUsers, 'users');
  const n = r.users.length;
  let nItems = 0;
  for (let t = 0; t < n; t++) if (r.items[t]! >= nItems) nItems = r.items[t]! + 1;
  // two stable counting sorts: rows by item, then that order by user, so each row's items ascend
  const itemStart = new Int32Array(nItems + 1);
  for (let t = 0; t < n; t++) itemStart[r.items[t]! + 1]!++;
  for (let i = 0; i < nItems; i++) itemStart[i + 1]! += itemStart[i]!;
  const byItem = new Int32Array(n);
  for (let t = 0; t < n; t++) byItem[itemStart[r.items[t]!]!++] = t;
  const offsets = new Int32Array(nUsers + 1);
  for (let t = 0; t < n; t++) offsets[r.users[t]! + 1]!++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1]! += offsets[u]!;
  const fill = offsets.slice(0, nUsers);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    const row = byItem[t]!;
    const pos = fill[r.users[row]!]!++;
    items[pos] = r.items[row]!;
    ratings[pos] = r.ratings[row]!;
  }
  return { nUsers, offsets, items, ratings };
}

function buildUserItemsCsr(users: Int32Array, items: Int32Array, nUsers: number): UserItemsCsr {
  checkIndices('user', users, nUsers, 'users');
  // counting sort by user
  const counts = new Int32Array(nUsers + 1);
  for (let r = 0; r < users.length; r++) counts[users[r]! + 1]!++;
  for (let u = 0; u < nUsers; u++) counts[u + 1]! += counts[u]!;
  const fill = counts.slice(0, nUsers);
  const raw = new Int32Array(users.length);
  for (let r = 0; r < users.length; r++) raw[fill[users[r]!]!++] = items[r]!;
  // sort each row, then compact away duplicates
  const offsets = new Int32Array(nUsers + 1);
  let out = 0;
  for (let u = 0; u < nUsers; u++) {
    const row = raw.subarray(counts[u]!, counts[u + 1]!);
    row.sort();
    offsets[u] = out;
    for (let t = 0; t < row.length; t++) {
      if (t > 0 && row[t] === row[t - 1]) continue;
      raw[out++] = row[t]!;
    }
  }
  offsets[nUsers] = out;
  return { nUsers, offsets, items: raw.slice(0, out) };
}

/** User u's sorted items as a view (no copy). */
export function itemsOfUser(csr: UserItemsCsr, u: number): Int32Array {
  return csr.items.subarray(csr.offsets[u]!, csr.offsets[u + 1]!);
}

/** The candidate items of user u: every item in 0..nItems-1 not in u's row, ascending. */
export function candidateItems(csr: UserItemsCsr, u: number, nItems: number): Int32Array {
  const rated = itemsOfUser(csr, u);
  const out = new Int32Array(nItems - rated.length);
  let t = 0;
  let c = 0;
  for (let i = 0; i < nItems; i++) {
    if (t < rated.length && rated[t] === i) {
      t++;
      continue;
    }
    out[c++] = i;
  }
  return out;
}
