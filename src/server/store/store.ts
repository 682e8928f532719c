import type { DatasetIdentity } from '../../data/identity.js';
import { parseRawId, type RawId } from '../../data/id-map.js';
import { foldSearchText } from '../../data/titles.js';

/** Why a store cannot serve now: its server is down or frozen, or another process holds its write lock. */
export type UnavailableCode = 'DATABASE_UNAVAILABLE' | 'DATABASE_BUSY';

/**
 * The database cannot answer now (server down or not answering in time, file gone, write lock held
 * elsewhere past the deadline). Nothing was written; the same request may succeed after
 * `retryAfterSeconds`, which the service sends as `Retry-After` with a 503.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly code: UnavailableCode,
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Where a stored rating came from: the training data (`collab db import`, first start) or the API. */
export type RatingSource = 'train' | 'api';

/** A movie row of the database. */
export interface MovieRow {
  movieId: RawId;
  title: string;
  genres: string[];
  year?: number;
  /** Training ratings of the movie (popularity order of browsing). Default 0. */
  ratingCount?: number;
  /** Mean training rating. Default 0. */
  meanRating?: number;
}

/** A rating to import, raw ids. */
export interface RatingRow {
  userId: RawId;
  movieId: RawId;
  rating: number;
  /** Unix milliseconds; default the import time. */
  ratedAt?: number;
}

/** A rating as stored. */
export interface StoredRating {
  userId: RawId;
  movieId: RawId;
  rating: number;
  /** Unix milliseconds of the last write. */
  ratedAt: number;
  source: RatingSource;
}

/** Every stored rating as columns with raw ids (what `collab train --db` reads). */
export interface RatingsColumns {
  users: RawId[];
  items: RawId[];
  ratings: Float32Array;
  /** Unix milliseconds per rating. */
  ratedAt: Float64Array;
}

/** A movie search. */
export interface MovieQuery {
  /**
   * Title text, matched loosely: either article order ("The Matrix" finds "Matrix, The (1999)"), any
   * case, accents and punctuation ignored ("amelie" finds "Amélie"). Default: any.
   */
  q?: string;
  /** Case-insensitive genre name. Default: any. */
  genre?: string;
  /** Rows returned at most. Default 20. */
  limit?: number;
  /** Rows skipped. Default 0. */
  offset?: number;
}

/** Row counts of the database. */
export interface StoreCounts {
  users: number;
  movies: number;
  ratings: number;
  /** Ratings written through the API (not from training). */
  apiRatings: number;
}

/**
 * The service's storage: one interface, two implementations (SQLite, PostgreSQL) with the same schema
 * and migrations. Ids are raw ids stored as text and given back as `parseRawId` reads them.
 */
export interface Store {
  /** 'sqlite' or 'postgres'. */
  readonly kind: 'sqlite' | 'postgres';
  /** The file, or the URL without its password. */
  readonly location: string;
  /** Highest applied migration version. */
  schemaVersion(): Promise<number>;
  /** Rows per table (and API ratings). */
  counts(): Promise<StoreCounts>;
  /** Inserts movies, updating title/genres/year/counts of ids already present; returns rows written. */
  importMovies(movies: MovieRow[]): Promise<number>;
  /** Inserts ratings (and their users) in one transaction, replacing earlier values of the same (user, movie). */
  importRatings(rows: RatingRow[], source?: RatingSource): Promise<number>;
  /** Stores one API rating (creating the user); throws UNKNOWN_ITEM when the movie is not in the database. */
  upsertRating(userId: RawId, movieId: RawId, rating: number, ratedAt?: number): Promise<StoredRating>;
  /** A user's ratings, most recent first. */
  userRatings(userId: RawId): Promise<StoredRating[]>;
  /** Movies matching a search, most-rated first, and the number of matches. */
  searchMovies(query: MovieQuery): Promise<{ total: number; movies: MovieRow[] }>;
  /** Every rating as columns. */
  ratingsColumns(): Promise<RatingsColumns>;
  /** Closes connections; later calls fail. */
  /** The dataset the database holds (its catalogue identity), recorded by the first import; undefined before. */
  datasetIdentity(): Promise<DatasetIdentity | undefined>;
  /** Records which dataset the database holds. */
  setDatasetIdentity(identity: DatasetIdentity): Promise<void>;
  close(): Promise<void>;
  /** Connections of the pool by state, for metrics (absent: no pool, as with SQLite). */
  poolState?(): { total: number; idle: number; waiting: number };
}

/** Genres as stored: "|Action|Comedy|", so one LIKE '%|action|%' finds a genre exactly. */
export function packGenres(genres: readonly string[]): string {
  return genres.length === 0 ? '' : `|${genres.join('|')}|`;
}

/** The inverse of `packGenres`. */
export function unpackGenres(text: string): string[] {
  return text.split('|').filter((g) => g !== '');
}

/** A LIKE pattern matching `text` anywhere, with %, _ and \ escaped (used with ESCAPE '\'). */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

/**
 * The WHERE conditions of a movie search with `?` placeholders and their values, for both stores (the
 * PostgreSQL store numbers the placeholders). A query with nothing left after folding ("_", "%")
 * matches the raw title text instead.
 */
export function movieSearchFilter(query: MovieQuery): { conditions: string[]; params: string[] } {
  const conditions: string[] = [];
  const params: string[] = [];
  if (query.q !== undefined && query.q !== '') {
    const folded = foldSearchText(query.q);
    if (folded !== '') {
      conditions.push("search_title LIKE ? ESCAPE '\\'");
      params.push(likePattern(folded));
    } else {
      conditions.push("LOWER(title) LIKE ? ESCAPE '\\'");
      params.push(likePattern(query.q));
    }
  }
  if (query.genre !== undefined && query.genre !== '') {
    conditions.push("LOWER(genres) LIKE ? ESCAPE '\\'");
    params.push(likePattern(`|${query.genre}|`));
  }
  return { conditions, params };
}

/** A movies-table row as both drivers return it (BIGINT/COUNT may come back as text). */
export interface MovieDbRow {
  id: string;
  title: string;
  genres: string;
  year: number | null;
  rating_count: number | string;
  mean_rating: number;
}

/** A ratings-table row as both drivers return it. */
export interface RatingDbRow {
  user_id: string;
  movie_id: string;
  rating: number;
  rated_at: number | string;
  source: RatingSource;
}

/** Maps a database row of the movies table to a MovieRow. */
export function movieFromDb(r: MovieDbRow): MovieRow {
  return {
    movieId: parseRawId(r.id),
    title: r.title,
    genres: unpackGenres(r.genres),
    ...(r.year === null ? {} : { year: Number(r.year) }),
    ratingCount: Number(r.rating_count),
    meanRating: Number(r.mean_rating),
  };
}

/** Maps a database row of the ratings table to a StoredRating. */
export function ratingFromDb(r: RatingDbRow): StoredRating {
  return { userId: parseRawId(r.user_id), movieId: parseRawId(r.movie_id), rating: Number(r.rating), ratedAt: Number(r.rated_at), source: r.source };
}


/** A dataset identity as collab_meta stores it (JSON), or undefined when the text is not one. */
export function parseDatasetIdentity(text: string): DatasetIdentity | undefined {
  try {
    const v = JSON.parse(text) as Partial<DatasetIdentity>;
    return typeof v.name === 'string' && typeof v.items === 'number' && typeof v.catalogueSha256 === 'string' ? { name: v.name, items: v.items, catalogueSha256: v.catalogueSha256 } : undefined;
  } catch {
    return undefined;
  }
}
