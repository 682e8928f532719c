import { CollabError, requireInt } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { ContentModel } from '../models/content.js';
import { topKForUser } from '../maths/top-k.js';
import { userRatingsCsr } from '../data/user-items.js';
import type { GivenRating, MovieInfo, RecommendOptions, ScoredItem } from './types.js';

/**
 * The movies a model knows, with what every recommender needs about them: titles and genres, rating
 * counts and means, the rating scale, the request filters (minimum ratings, genre, years) and
 * content-based neighbours; and the training ratings of each user. Shared by every recommender.
 */
export class Catalogue {
  /** Training ratings per movie (dense order). */
  readonly itemCounts: Int32Array;
  /** Mean training rating per movie (0 when unrated). */
  readonly itemMeans: Float32Array;
  /** Lowest and highest training rating. */
  readonly scale: [number, number];
  private list: MovieInfo[] | undefined;
  private genreIndex: Map<string, Uint8Array> | undefined;
  private content: ContentModel | undefined;

  constructor(
    private readonly train: Ratings,
    private readonly items: ReadonlyMap<RawId, ItemMeta>,
  ) {
    const nI = train.itemIds.size;
    const counts = new Int32Array(nI);
    const sums = new Float64Array(nI);
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < train.ratings.length; r++) {
      const v = train.ratings[r]!;
      counts[train.items[r]!]!++;
      sums[train.items[r]!]! += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.itemCounts = counts;
    this.itemMeans = Float32Array.from(sums, (s, i) => (counts[i]! > 0 ? s / counts[i]! : 0));
    this.scale = train.ratings.length ? [lo, hi] : [0.5, 5];
  }

  /** Every movie, in dense order. */
  movies(): MovieInfo[] {
    if (!this.list) {
      this.list = this.train.itemIds.ids().map((id, i) => {
        const { title, genres, year } = this.describe(i);
        const info: MovieInfo = { itemId: id, title, genres, ratingCount: this.itemCounts[i]!, meanRating: this.itemMeans[i]! };
        if (year !== undefined) info.year = year;
        return info;
      });
    }
    return this.list;
  }

  // Dense movie i's id and metadata (a title made up from the id when the data has none), without the whole list.
  private describe(i: number): { itemId: RawId; title: string; genres: string[]; year: number | undefined } {
    const m = this.list?.[i];
    if (m) return { itemId: m.itemId, title: m.title, genres: m.genres, year: m.year };
    const id = this.train.itemIds.idOf(i);
    const meta = this.items.get(id);
    return { itemId: id, title: meta?.title ?? `movie ${id}`, genres: meta?.genres ?? [], year: meta?.year };
  }

  /** Whether the model was trained with this user. */
  hasUser(userId: RawId): boolean {
    return this.train.userIds.has(userId);
  }

  /** Raw ids and ratings of a known user's training ratings, in training order (an unknown user is an error). */
  userRatings(userId: RawId): GivenRating[] {
    const train = this.train;
    const u = train.userIds.lookup(userId, 'error', 'user');
    // the per-user index is built once per dataset (and shared); a scan of every rating per call is not
    const byUser = userRatingsCsr(train, train.userIds.size);
    const out: GivenRating[] = [];
    for (let t = byUser.offsets[u]!; t < byUser.offsets[u + 1]!; t++) out.push({ itemId: train.itemIds.idOf(byUser.items[t]!), rating: byUser.ratings[t]! });
    return out;
  }

  /** One movie by raw id, or undefined. */
  movie(itemId: RawId): MovieInfo | undefined {
    const i = this.train.itemIds.indexOf(itemId);
    return i < 0 ? undefined : this.movies()[i];
  }

  /** Title of dense movie i. */
  titleOf(i: number): string {
    return this.movies()[i]!.title;
  }

  /** Dense movie i as a result row with its score (no need for the whole list: `recommend --all` makes a few thousand rows of a run). */
  scored(i: number, score: number): ScoredItem {
    const m = this.describe(i);
    const item: ScoredItem = { itemId: m.itemId, title: m.title, genres: m.genres, score };
    if (m.year !== undefined) item.year = m.year;
    return item;
  }

  /** Sets to NaN (never picked) the score of every movie with fewer than `minRatings` training ratings. */
  maskRare(scores: Float32Array, minRatings: number): void {
    for (let i = 0; i < scores.length; i++) if (this.itemCounts[i]! < minRatings) scores[i] = NaN;
  }

  /** Sets to NaN the scores of movies a request's filters leave out: minimum ratings, genre, years. */
  applyFilters(scores: Float32Array, options: RecommendOptions, defaultMinRatings: number): void {
    this.maskRare(scores, requireInt('minRatings', options.minRatings ?? defaultMinRatings, 0));
    if (options.genre) {
      const mask = this.genreMask(options.genre);
      for (let i = 0; i < scores.length; i++) if (!mask[i]) scores[i] = NaN;
    }
    if (options.yearFrom !== undefined || options.yearTo !== undefined) {
      const from = options.yearFrom ?? -Infinity;
      const to = options.yearTo ?? Infinity;
      const cat = this.movies();
      for (let i = 0; i < scores.length; i++) {
        const y = cat[i]!.year;
        if (y === undefined || y < from || y > to) scores[i] = NaN;
      }
    }
  }

  /**
   * Each movie's mean content similarity (TF-IDF cosine over genres, year and title words) to the dense
   * movies `liked`, into `out`; undefined when the catalogue has no metadata to compare.
   */
  contentAffinity(liked: Int32Array, out: Float32Array): Float32Array | undefined {
    if (this.items.size === 0 || liked.length === 0) return undefined;
    this.content ??= ContentModel.fit(this.train, this.items, { features: ['genres', 'year', 'title'] });
    out.fill(0);
    const sim = new Float32Array(out.length);
    for (let t = 0; t < liked.length; t++) {
      this.content.similarities(liked[t]!, sim);
      for (let j = 0; j < out.length; j++) out[j]! += sim[j]! / liked.length;
    }
    return out;
  }

  /** Movies closest to dense movie i by content (TF-IDF over genres, year and title words). */
  similarByContent(i: number, n: number, minRatings: number): ScoredItem[] {
    requireInt('n', n, 1);
    this.content ??= ContentModel.fit(this.train, this.items, { features: ['genres', 'year', 'title'] });
    const scores = Float32Array.from(this.content.similarities(i));
    this.maskRare(scores, minRatings);
    const top = topKForUser(scores, n, Int32Array.of(i));
    return Array.from(top.items, (j, t) => this.scored(j, top.scores[t]!));
  }

  private genreMask(genre: string): Uint8Array {
    if (!this.genreIndex) {
      const index = new Map<string, Uint8Array>();
      this.movies().forEach((m, i) => {
        for (const g of m.genres) {
          const key = g.toLowerCase();
          let mask = index.get(key);
          if (!mask) index.set(key, (mask = new Uint8Array(this.itemCounts.length)));
          mask[i] = 1;
        }
      });
      this.genreIndex = index;
    }
    const mask = this.genreIndex.get(genre.toLowerCase());
    if (!mask) throw unknownGenre(genre, this.genreIndex.keys());
    return mask;
  }
}

/** The error of a genre filter that names no genre of the catalogue; lists the known ones (lower case). */
export function unknownGenre(genre: string, known: Iterable<string>, field = 'genre'): CollabError {
  const names = [...new Set([...known].map((g) => g.toLowerCase()))].sort().join(', ');
  return new CollabError('INVALID_OPTION', `unknown genre "${genre}"; known genres: ${names || 'none (the model has no genre data)'}`, { field });
}
