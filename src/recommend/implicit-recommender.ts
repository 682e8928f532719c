import { CollabError, requireInt } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { pca } from '../maths/pca.js';
import { Catalogue } from './catalogue.js';
import { topKForUser } from '../maths/top-k.js';
import type { BecauseReason, GivenRating, MapPoint, MovieInfo, RecommendOptions, Recommender, ScoredItem, UserRange } from './types.js';
import { knownItems } from '../data/seen.js';
import { checkRange } from './user-range.js';

/**
 * What a top-N model trained on who watched what (EASE, iALS) offers a recommender. Item indices are
 * dense on the training id maps; a history is a set of item indices (any rating counts as watched).
 */
export interface HistoryModel {
  readonly nUsers: number;
  readonly nItems: number;
  /** Training items of user u, ascending. */
  itemsOf(u: number): Int32Array;
  /** Scores of every item for training user u, written into `out`. */
  scoreUser(u: number, out: Float32Array): Float32Array;
  /** Scores of every item for someone whose history is `items` (a visitor, or a user with new ratings). */
  scoreItems(items: Int32Array, out: Float32Array): Float32Array;
  /** How much each movie resembles movie i (higher is closer), written into `out`. */
  similarScores(i: number, out: Float32Array): Float32Array;
  /** Each history item's additive part in the score of item i for that history (the "because" terms). */
  contributions(i: number, items: Int32Array): Float64Array;
  /** Item embeddings for the movie map, when the model has them. */
  readonly embedding?: { Q: Float32Array; k: number };
}

/** How a history model presents itself: kind, display name, hyperparameters, the meaning of `similarScores`. */
export interface HistoryModelInfo {
  /** Manifest kind and `info.scoreKind` ('ease', 'ials'). */
  kind: 'ease' | 'ials';
  /** Name in messages ('EASE', 'iALS'). */
  label: string;
  config: Record<string, unknown>;
}

/** A history model with the training ratings and movie metadata recommending needs. */
export interface TrainedHistoryModel {
  model: HistoryModel;
  /** Training ratings (dense indices on `userIds` / `itemIds`); only who rated what is used. */
  train: Ratings;
  /** Item metadata by raw item id (may be empty). */
  items: Map<RawId, ItemMeta>;
}

/** Options of {@link ImplicitRecommender}. */
export interface ImplicitRecommenderOptions {
  /** Default `minRatings` for recommendations. Default 5 (as ModelRecommender). */
  minRatings?: number;
  /** Default `minRatings` for similar movies. Default 20 (as ModelRecommender). */
  similarMinRatings?: number;
}

/**
 * "What to watch next" from a model trained on who watched what: a known user is scored from their
 * training history, a visitor from the movies they give (any rating counts as watched), excluding what
 * they have seen. Scores rank movies but are not predicted ratings (`info.scoreKind` names the model).
 * Recommendations, similar movies, filters, exclusions and "because you watched" reasons are the same
 * code for every such model; only the {@link HistoryModel} differs.
 */
export class ImplicitRecommender implements Recommender {
  readonly info: Recommender['info'];
  private readonly catalogue: Catalogue;
  private readonly minRatings: number;
  private readonly similarMinRatings: number;
  private readonly label: string;

  constructor(
    private readonly trained: TrainedHistoryModel,
    describe: HistoryModelInfo,
    options: ImplicitRecommenderOptions = {},
  ) {
    const { model, train } = trained;
    this.minRatings = requireInt('minRatings', options.minRatings ?? 5, 0);
    this.similarMinRatings = requireInt('similarMinRatings', options.similarMinRatings ?? 20, 0);
    this.label = describe.label;
    this.info = { kind: describe.kind, config: describe.config, history: { epochs: [] }, nUsers: model.nUsers, nItems: model.nItems, scoreKind: describe.kind };
    this.catalogue = new Catalogue(train, trained.items);
  }

  /** The catalogue: every movie the model knows, in dense order. */
  movies(): MovieInfo[] {
    return this.catalogue.movies();
  }

  /** One movie by raw id, or undefined. */
  movie(itemId: RawId): MovieInfo | undefined {
    return this.catalogue.movie(itemId);
  }

  /** Whether the model was fitted with this user. */
  hasUser(userId: RawId): boolean {
    return this.catalogue.hasUser(userId);
  }

  /** Raw ids and ratings of a known user's training ratings, in training order. */
  userRatings(userId: RawId): GivenRating[] {
    return this.catalogue.userRatings(userId);
  }

  /** Top-N for a known user, leaving out what they rated in training. */
  recommendForUser(userId: RawId, options: RecommendOptions = {}): ScoredItem[] {
    const u = this.trained.train.userIds.lookup(userId, 'error', 'user');
    const scores = this.trained.model.scoreUser(u, new Float32Array(this.trained.model.nItems));
    const rated = new Map(this.userRatings(userId).map((r) => [this.trained.train.itemIds.indexOf(r.itemId), r.rating]));
    return this.pick(scores, this.trained.model.itemsOf(u), options, rated);
  }

  /** Top-N for every known user, in dense user order, each list what {@link recommendForUser} gives that user. */
  recommendAllUsers(options: RecommendOptions, onUser: (userId: RawId, items: ScoredItem[]) => void, range?: UserRange): void {
    const ids = this.trained.train.userIds;
    const { from, to } = checkRange(range, this.trained.model.nUsers);
    const scores = new Float32Array(this.trained.model.nItems);
    for (let u = from; u < to; u++) {
      // the ratings only feed explanations; without them a user's history is enough
      if (options.explain) onUser(ids.idOf(u), this.recommendForUser(ids.idOf(u), options));
      else onUser(ids.idOf(u), this.pick(this.trained.model.scoreUser(u, scores), this.trained.model.itemsOf(u), options, new Map()));
    }
  }

  /** Top-N for a visitor: the given movies are their history (any rating counts as "watched"). */
  recommendForRatings(ratings: GivenRating[], options: RecommendOptions = {}): ScoredItem[] {
    if (ratings.length === 0) {
      throw new CollabError('INVALID_OPTION', `${this.label} needs at least one movie the user has seen; give a few ratings`, { field: 'ratings' });
    }
    const ids = this.trained.train.itemIds;
    const [lo, hi] = this.catalogue.scale;
    const seen = new Map<number, number>();
    for (const { itemId, rating } of ratings) {
      const i = ids.lookup(itemId, 'error', 'item');
      if (!Number.isFinite(rating) || rating < lo || rating > hi) {
        throw new CollabError('INVALID_OPTION', `rating ${rating} for movie ${itemId} is outside the model's scale ${lo}..${hi}`, { field: 'rating' });
      }
      seen.set(i, rating);
    }
    const history = Int32Array.from(seen.keys()).sort();
    const scores = this.trained.model.scoreItems(history, new Float32Array(this.trained.model.nItems));
    return this.pick(scores, history, options, seen);
  }

  /** Movies closest to this one by the model's own item similarity, leaving out rarely rated ones. */
  similarItems(itemId: RawId, n = 10, minRatings = this.similarMinRatings): ScoredItem[] {
    requireInt('n', n, 1);
    const i = this.trained.train.itemIds.lookup(itemId, 'error', 'item');
    const scores = this.trained.model.similarScores(i, new Float32Array(this.trained.model.nItems));
    this.catalogue.maskRare(scores, minRatings);
    const top = topKForUser(scores, n, Int32Array.of(i));
    return Array.from(top.items, (j, t) => this.catalogue.scored(j, top.scores[t]!));
  }

  /** Movies closest to one movie by content (TF-IDF over genres, year and title words), as ModelRecommender does. */
  similarByContent(itemId: RawId, n = 10, minRatings = this.similarMinRatings): ScoredItem[] {
    return this.catalogue.similarByContent(this.trained.train.itemIds.lookup(itemId, 'error', 'item'), n, minRatings);
  }

  /** The most rated movies placed by a PCA of the item embeddings; models without embeddings (EASE) have no map. */
  movieMap(limit = 300): MapPoint[] {
    const emb = this.trained.model.embedding;
    if (!emb) {
      throw new CollabError('INVALID_OPTION', `the movie map is not available for ${this.info.kind} models (they have no movie embeddings); serve a rating model (collab train --out) for the map`, { field: 'model' });
    }
    const counts = this.catalogue.itemCounts;
    const order = Array.from(counts.keys()).sort((a, b) => counts[b]! - counts[a]! || a - b);
    const rows = Int32Array.from(order.slice(0, Math.min(limit, order.length)));
    const result = pca(emb.Q, this.trained.model.nItems, emb.k, 2, { rows });
    const ids = this.trained.train.itemIds;
    return Array.from(rows, (i, t) => ({ itemId: ids.idOf(i), title: this.catalogue.titleOf(i), x: result.coordinates[t * 2]!, y: result.coordinates[t * 2 + 1]!, ratingCount: counts[i]! }));
  }

  // Masks the scores (NaN = never picked) by the history and the filters, then takes the top n.
  private pick(scores: Float32Array, history: Int32Array, options: RecommendOptions, ratingOf: ReadonlyMap<number, number>): ScoredItem[] {
    const n = requireInt('n', options.n ?? 10, 1, 10000);
    this.catalogue.applyFilters(scores, options, this.minRatings);
    if (!options.includeRated) {
      // the file is fitted on every rating it holds, so the history is all the model knows was seen; the
      // caller may know more (the service database's ratings)
      const extra = knownItems(this.trained.train.itemIds, options.seen) ?? new Int32Array(0);
      for (const seen of [history, extra]) for (let t = 0; t < seen.length; t++) scores[seen[t]!] = NaN;
    }
    const top = topKForUser(scores, n);
    return Array.from(top.items, (i, t) => {
      const item = this.catalogue.scored(i, top.scores[t]!);
      item.rankScore = item.score; // the list is sorted by the model's score itself
      if (options.explain) item.because = this.because(i, history, ratingOf);
      return item;
    });
  }

  /**
   * "Because you watched ...": the model's score of movie i is a sum of one term per history movie j
   * (EASE: B_ji; iALS: c·y_iᵀ W y_j through the history's solve), so the reasons are the history movies
   * with the largest positive terms (reported as `similarity`), at most 3.
   */
  private because(i: number, history: Int32Array, ratingOf: ReadonlyMap<number, number>): BecauseReason[] {
    if (history.length === 0) return [];
    const parts = this.trained.model.contributions(i, history);
    const terms = Array.from(history, (j, t) => ({ j, b: parts[t]! })).filter((x) => x.b > 0);
    terms.sort((a, b) => b.b - a.b || a.j - b.j);
    const ids = this.trained.train.itemIds;
    return terms.slice(0, 3).map(({ j, b }) => ({
      itemId: ids.idOf(j),
      title: this.catalogue.titleOf(j),
      similarity: b,
      rating: ratingOf.get(j)!,
    }));
  }
}
