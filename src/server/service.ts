import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { CollabError } from '../core/errors.js';
import { unknownGenre } from '../recommend/catalogue.js';
import type { RawId } from '../data/id-map.js';
import { displayTitle } from '../data/titles.js';
import type { MapPoint, MovieInfo, RecommendOptions, Recommender, ScoredItem } from '../recommend/types.js';
import type { MovieQuery, MovieRow, Store, StoredRating } from './store/store.js';

/** A movie as the API returns it. */
export interface ApiMovie {
  movieId: RawId;
  /** The title as the data has it ("Matrix, The (1999)"). */
  title: string;
  /** The title in natural order ("The Matrix (1999)"), for people. */
  displayTitle: string;
  genres: string[];
  year?: number;
  ratingCount: number;
  meanRating: number;
}

/** A recommended or similar movie as the API returns it. */
export interface ApiScored {
  movieId: RawId;
  title: string;
  /** The title in natural order. */
  displayTitle: string;
  genres: string[];
  year?: number;
  score: number;
  because?: { movieId: RawId; title: string; displayTitle: string; similarity: number; rating: number }[];
}

/** Recommendations and how they were made. */
export interface ApiRecommendations {
  /** 'model': the user's trained vector; 'fold-in': a vector fitted now from the given/stored ratings. */
  method: 'model' | 'fold-in';
  /** Ratings the fold-in used (0 for 'model'). */
  ratingsUsed: number;
  items: ApiScored[];
}

/** Known users' trained recommendations kept per service (about 2 KB each). */
const TRAINED_CACHE_SIZE = 10_000;

/** Options of `CollabService`. */
export interface ServiceOptions {
  /** Inclusive range accepted for a rating. Default [0.5, 5]. */
  ratingRange?: [number, number];
  /** Distinct `/api/map` limits whose PCA maps are kept (least recently used dropped). Default 8. */
  mapCacheSize?: number;
}

/** Converts the recommender's ScoredItem to the API's shape (raw ids named movieId). */
export function apiScored(s: ScoredItem): ApiScored {
  return {
    movieId: s.itemId,
    title: s.title,
    displayTitle: displayTitle(s.title),
    genres: s.genres,
    ...(s.year !== undefined ? { year: s.year } : {}),
    score: s.score,
    ...(s.because ? { because: s.because.map((b) => ({ movieId: b.itemId, title: b.title, displayTitle: displayTitle(b.title), similarity: b.similarity, rating: b.rating })) } : {}),
  };
}

function apiMovie(m: MovieInfo): ApiMovie {
  return { movieId: m.itemId, title: m.title, displayTitle: displayTitle(m.title), genres: m.genres, ...(m.year !== undefined ? { year: m.year } : {}), ratingCount: m.ratingCount, meanRating: m.meanRating };
}

/** Catalogue rows for the store, from the model's movies. */
export function catalogueRows(rec: Recommender): MovieRow[] {
  return rec.movies().map((m) => ({ movieId: m.itemId, title: m.title, genres: m.genres, ...(m.year !== undefined ? { year: m.year } : {}), ratingCount: m.ratingCount, meanRating: m.meanRating }));
}

/**
 * What the HTTP routes call: the model for scores, the store for ratings. A user's recommendations
 * come from the trained vector while the database holds nothing newer than training for them, and
 * from a fold-in over all their stored ratings as soon as it does (an API rating, or a user the model
 * never saw), so a new rating changes the next answer without retraining.
 */
export class CollabService {
  // bounded: every distinct limit is a fresh PCA, so an unbounded map grows with each new query string
  private readonly mapCache: LRUCache<number, MapPoint[]>;
  // known users' recommendations per (user, options), least recently used dropped
  private readonly trainedCache = new LRUCache<string, ApiScored[]>({ max: TRAINED_CACHE_SIZE });
  readonly ratingRange: [number, number];

  constructor(
    readonly recommender: Recommender,
    readonly store: Store,
    options: ServiceOptions = {},
  ) {
    this.ratingRange = options.ratingRange ?? [0.5, 5];
    this.mapCache = new LRUCache({ max: options.mapCacheSize ?? 8 });
  }

  /** Maps currently cached (at most `mapCacheSize`). */
  get mapCacheEntries(): number {
    return this.mapCache.size;
  }

  /** Imports the model's catalogue when the movies table is empty; returns the movies written. */
  async importCatalogueIfEmpty(): Promise<number> {
    const counts = await this.store.counts();
    if (counts.movies > 0) return 0;
    return this.store.importMovies(catalogueRows(this.recommender));
  }

  /**
   * Throws the 400 of an unknown genre filter (field query.genre), so browsing and both kinds of
   * recommendations refuse the same genres the same way instead of one answering an empty list.
   */
  checkGenre(genre: string | undefined): void {
    if (genre === undefined || genre === '') return;
    const known = this.genres().map((g) => g.genre);
    if (!known.some((g) => g.toLowerCase() === genre.toLowerCase())) throw unknownGenre(genre, known, 'query.genre');
  }

  /** Title/genre search over the database's movies, with the model's statistics where it knows the movie. */
  async searchMovies(query: MovieQuery): Promise<{ total: number; movies: ApiMovie[] }> {
    this.checkGenre(query.genre);
    const found = await this.store.searchMovies(query);
    return {
      total: found.total,
      movies: found.movies.map((m) => {
        const known = this.recommender.movie(m.movieId);
        return known ? apiMovie(known) : { movieId: m.movieId, title: m.title, displayTitle: displayTitle(m.title), genres: m.genres, ...(m.year !== undefined ? { year: m.year } : {}), ratingCount: m.ratingCount ?? 0, meanRating: m.meanRating ?? 0 };
      }),
    };
  }

  /** One movie and the movies most similar to it. */
  movieDetails(movieId: RawId, n: number): { movie: ApiMovie; similar: ApiScored[] } {
    const m = this.recommender.movie(movieId);
    if (m === undefined) {
      throw new CollabError('UNKNOWN_ITEM', `movie ${JSON.stringify(movieId)} is not in the model's catalogue; search /api/movies for valid ids`, { field: 'id' });
    }
    return { movie: apiMovie(m), similar: this.recommender.similarItems(movieId, n).map(apiScored) };
  }

  /** Genres of the catalogue with their movie counts, most common first. */
  genres(): { genre: string; movies: number }[] {
    const count = new Map<string, number>();
    for (const m of this.recommender.movies()) for (const g of m.genres) count.set(g, (count.get(g) ?? 0) + 1);
    return [...count].map(([genre, movies]) => ({ genre, movies })).sort((a, b) => b.movies - a.movies || a.genre.localeCompare(b.genre));
  }

  /** Recommendations for a user id: trained vector, or fold-in over stored ratings (see the class doc). */
  async recommendForUser(userId: RawId, options: RecommendOptions): Promise<ApiRecommendations> {
    this.checkGenre(options.genre);
    const stored = await this.store.userRatings(userId);
    const known = this.recommender.hasUser(userId);
    const newer = stored.some((r) => r.source === 'api');
    if (known && !newer) {
      // what the database holds of them is seen too (db import may bring ratings the model never trained on)
      const seen = stored.map((r) => r.movieId);
      return { method: 'model', ratingsUsed: 0, items: this.trainedRecommendations(userId, seen.length > 0 && !options.includeRated ? { ...options, seen } : options) };
    }
    const usable = stored.filter((r) => this.recommender.movie(r.movieId) !== undefined);
    if (usable.length === 0) {
      throw new CollabError('UNKNOWN_USER', `user ${JSON.stringify(userId)} is not in the model and has no ratings in the database; POST /api/users/${userId}/ratings first, or use POST /api/recommendations`, { field: 'id' });
    }
    const given = usable.map((r) => ({ itemId: r.movieId, rating: r.rating }));
    return { method: 'fold-in', ratingsUsed: given.length, items: this.recommender.recommendForRatings(given, { ...options, explain: true, ...(known ? { seenBy: userId } : {}) }).map(apiScored) };
  }

  /**
   * A known user's recommendations from the trained vector, remembered per (user, options): they depend
   * on the model and the database's ratings of the user (part of the options, so of the key: a db import
   * that adds one makes a new entry); the model never changes under this object (a reload makes a new
   * service), and they are used only when the user has no newer API ratings, so nothing stale is served.
   */
  private trainedRecommendations(userId: RawId, options: RecommendOptions): ApiScored[] {
    const { seen, ...rest } = options;
    const key = `${typeof userId}:${userId}|${JSON.stringify(rest)}|${seen ? createHash('sha256').update(seen.map(String).sort().join('\n')).digest('base64') : ''}`;
    let items = this.trainedCache.get(key);
    if (items === undefined) {
      items = this.recommender.recommendForUser(userId, { ...options, explain: true }).map(apiScored);
      this.trainedCache.set(key, items);
    }
    return items;
  }

  /** Recommendations for an anonymous visitor's ratings (fold-in). */
  recommendForRatings(ratings: { movieId: RawId; rating: number }[], options: RecommendOptions): ApiRecommendations {
    this.checkGenre(options.genre);
    const seen = new Set<RawId>();
    ratings.forEach((r, t) => {
      if (seen.has(r.movieId)) throw new CollabError('INVALID_OPTION', `movie ${r.movieId} is rated twice (again at position ${t}); send each movie once`, { field: `body[${t}].movieId` });
      seen.add(r.movieId);
      if (this.recommender.movie(r.movieId) === undefined) {
        throw new CollabError('UNKNOWN_ITEM', `movie ${JSON.stringify(r.movieId)} (position ${t}) is not in the model's catalogue; search /api/movies for valid ids`, { field: `body[${t}].movieId` });
      }
    });
    const given = ratings.map((r) => ({ itemId: r.movieId, rating: r.rating }));
    return { method: 'fold-in', ratingsUsed: given.length, items: this.recommender.recommendForRatings(given, { ...options, explain: true }).map(apiScored) };
  }

  /** Stores a user's rating after checking the movie is one the model can use. */
  async rate(userId: RawId, movieId: RawId, rating: number): Promise<StoredRating> {
    if (this.recommender.movie(movieId) === undefined) {
      throw new CollabError('UNKNOWN_ITEM', `movie ${JSON.stringify(movieId)} is not in the model's catalogue; search /api/movies for valid ids`, { field: 'body.movieId' });
    }
    return this.store.upsertRating(userId, movieId, rating);
  }

  /** A user's stored ratings with titles, most recent first. */
  async userRatings(userId: RawId): Promise<(StoredRating & { title?: string; displayTitle?: string })[]> {
    return (await this.store.userRatings(userId)).map((r) => {
      const m = this.recommender.movie(r.movieId);
      return m ? { ...r, title: m.title, displayTitle: displayTitle(m.title) } : r;
    });
  }

  /** The PCA map of the `limit` most-rated movies (kept for the most recently asked limits). */
  movieMap(limit: number): MapPoint[] {
    // every limit past the catalogue's size is the same map: one cache entry, one PCA
    const key = Math.min(limit, this.recommender.info.nItems);
    let points = this.mapCache.get(key);
    if (points === undefined) {
      points = this.recommender.movieMap(key);
      this.mapCache.set(key, points);
    }
    return points;
  }
}
