import type { IdMap, RawId } from './id-map.js';

/**
 * Ratings as columns: rating r of the table is (users[r], items[r], ratings[r]) with dense indices
 * into `userIds` / `itemIds`. Never an array of row objects, so 25 million ratings fit in 12-20 bytes each.
 */
export interface Ratings {
  /** Dense user index per rating. */
  users: Int32Array;
  /** Dense item index per rating. */
  items: Int32Array;
  /** Rating values. */
  ratings: Float32Array;
  /** Unix seconds per rating, when the source has them. */
  timestamps?: Float64Array;
  /** Raw user id ↔ dense user index. */
  userIds: IdMap;
  /** Raw item id ↔ dense item index. */
  itemIds: IdMap;
}

/** A movie's metadata, as typed as the source allows. */
export interface ItemMeta {
  title: string;
  genres: string[];
  /** Release year, from the title's "(1995)" or a release date. */
  year?: number;
  /** Free-text tags users gave the movie (ml-latest tags.csv), lower-cased, distinct. */
  tags?: string[];
  /** IMDb / TMDb ids from links.csv. */
  imdbId?: string;
  tmdbId?: string;
}

/** A user's demographics (ml-100k u.user, ml-1m users.dat). */
export interface UserMeta {
  age?: number;
  gender?: string;
  occupation?: string;
  zip?: string;
}

/** What a loader skipped or merged, reported at the end instead of failing. */
export interface LoadReport {
  /** Rows dropped by --skip-bad-rows. */
  badRows: number;
  /** First few bad-row messages (file:line: problem). */
  badRowExamples: string[];
  /** Earlier (user, item) ratings replaced by a later one (policy: keep last). */
  duplicates: number;
}

/** Ratings plus whatever metadata the source has. */
export interface Dataset {
  /** Dataset name (ml-100k, ...) or the file's base name. */
  name: string;
  /** Where it was read from. */
  source: string;
  ratings: Ratings;
  /** Item metadata by raw item id; empty when the source has none. */
  items: Map<RawId, ItemMeta>;
  /** User metadata by raw user id; empty when the source has none. */
  users: Map<RawId, UserMeta>;
  report: LoadReport;
}

/** Number of ratings in a table. */
export function ratingCount(r: Ratings): number {
  return r.ratings.length;
}

/** The (user, item, rating) columns of a rating table, without ids or timestamps. */
export type RatingColumns = Pick<Ratings, 'users' | 'items' | 'ratings'>;

/** Writes rows `rows` of `from` into the first rows.length entries of `to`, in that order (no allocation: training reorders its columns in place with it). */
export function gatherColumns(from: RatingColumns, rows: Int32Array, to: RatingColumns): void {
  const { users, items, ratings } = from;
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    to.users[j] = users[r]!;
    to.items[j] = items[r]!;
    to.ratings[j] = ratings[r]!;
  }
}

/** A new Ratings holding the rows listed in `rows` (dense ids and maps shared with `r`). */
export function selectRows(r: Ratings, rows: Int32Array): Ratings {
  const n = rows.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = r.timestamps ? new Float64Array(n) : undefined;
  for (let k = 0; k < n; k++) {
    const row = rows[k]!;
    users[k] = r.users[row]!;
    items[k] = r.items[row]!;
    ratings[k] = r.ratings[row]!;
    if (timestamps) timestamps[k] = r.timestamps![row]!;
  }
  return timestamps
    ? { users, items, ratings, timestamps, userIds: r.userIds, itemIds: r.itemIds }
    : { users, items, ratings, userIds: r.userIds, itemIds: r.itemIds };
}
