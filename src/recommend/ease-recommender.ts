import { CollabError, requireInt } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import type { TrainedEase } from '../io/ease-model.js';
import { Catalogue } from './catalogue.js';
import { topKForUser } from './top-k.js';
import { knownItems } from './seen.js';
import type { BecauseReason, GivenRating, MapPoint, MovieInfo, RecommendOptions, Recommender, ScoredItem } from './types.js';

/** Options of {@link EaseRecommender}. */
export interface EaseRecommenderOptions {
  /** Default `minRatings` for recommendations. Default 5 (as ModelRecommender). */
  minRatings?: number;
  /** Default `minRatings` for similar movies. Default 20 (as ModelRecommender). */
  similarMinRatings?: number;
}

/**
 * "What to watch next" from a saved EASE model: a user's score of movie j is s_j = Σ_{i ∈ history} B_ij
 * over the movies they rated, whatever the rating (EASE learns from who rated what). Scores are EASE
 * scores, not predicted ratings (`info.scoreKind` is 'ease'). A new visitor needs no fold-in: their
 * given movies are the history. Explanations and the movie map need embeddings EASE does not have.
 */
export class EaseRecommender implements Recommender {
  readonly info: Recommender['info'];
  private readonly catalogue: Catalogue;
  private readonly scores: Float32Array;
  private readonly rawScores: Float32Array;
  private readonly minRatings: number;
  private readonly similarMinRatings: number;

  constructor(
    private readonly trained: TrainedEase,
    options: EaseRecommenderOptions = {},
  ) {
    const { model, train } = trained;
    this.minRatings = requireInt('minRatings', options.minRatings ?? 5, 0);
    this.similarMinRatings = requireInt('similarMinRatings', options.similarMinRatings ?? 20, 0);
    this.info = {
      kind: 'ease',
      config: { lambda: model.lambda, nItems: model.nItems },
      history: { epochs: [] },
      nUsers: model.nUsers,
      nItems: model.nItems,
      scoreKind: 'ease',
    };
    const nI = model.nItems;
    this.catalogue = new Catalogue(train, trained.items);
    this.scores = new Float32Array(nI);
    this.rawScores = new Float32Array(nI);
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
    return this.trained.train.userIds.has(userId);
  }

  /** Raw ids and ratings of a known user's training ratings, in training order. */
  userRatings(userId: RawId): GivenRating[] {
    const { train } = this.trained;
    const u = train.userIds.lookup(userId, 'error', 'user');
    const out: GivenRating[] = [];
    for (let r = 0; r < train.ratings.length; r++) if (train.users[r] === u) out.push({ itemId: train.itemIds.idOf(train.items[r]!), rating: train.ratings[r]! });
    return out;
  }

  /** Top-N for a known user by EASE score, leaving out what they rated in training. */
  recommendForUser(userId: RawId, options: RecommendOptions = {}): ScoredItem[] {
    const u = this.trained.train.userIds.lookup(userId, 'error', 'user');
    this.trained.model.scoreUser(u, this.scores);
    const rated = new Map(this.userRatings(userId).map((r) => [this.trained.train.itemIds.indexOf(r.itemId), r.rating]));
    return this.pick(this.trained.model.itemsOf(u), options, rated);
  }

  /** Top-N for a visitor: the given movies are their history (any rating counts as "watched"), no fold-in. */
  recommendForRatings(ratings: GivenRating[], options: RecommendOptions = {}): ScoredItem[] {
    if (ratings.length === 0) {
      throw new CollabError('INVALID_OPTION', 'EASE needs at least one movie the user has seen; give a few ratings', { field: 'ratings' });
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
    this.trained.model.scoreItems(history, this.scores);
    return this.pick(history, options, seen);
  }

  /** The EASE score of every movie (dense order) from the last recommendation call, before filtering. */
  lastScores(): Float32Array {
    return this.rawScores;
  }

  /**
   * Movies a viewer of this movie would watch next: row i of B, s_j = B_ij (the EASE score of j for a
   * history of just i), leaving out rarely rated ones.
   */
  similarItems(itemId: RawId, n = 10, minRatings = this.similarMinRatings): ScoredItem[] {
    requireInt('n', n, 1);
    const i = this.trained.train.itemIds.lookup(itemId, 'error', 'item');
    const m = this.trained.model.nItems;
    const scores = this.trained.model.B.slice(i * m, (i + 1) * m);
    this.catalogue.maskRare(scores, minRatings);
    const top = topKForUser(scores, n, Int32Array.of(i));
    return Array.from(top.items, (j, t) => this.catalogue.scored(j, top.scores[t]!));
  }

  /** Movies closest to one movie by content (TF-IDF over genres, year and title words), as ModelRecommender does. */
  similarByContent(itemId: RawId, n = 10, minRatings = this.similarMinRatings): ScoredItem[] {
    return this.catalogue.similarByContent(this.trained.train.itemIds.lookup(itemId, 'error', 'item'), n, minRatings);
  }

  /** Not available: the map is a PCA of movie embeddings, which EASE does not learn. */
  movieMap(_limit?: number): MapPoint[] {
    throw new CollabError('INVALID_OPTION', 'the movie map is not available for ease models (they have no movie embeddings); serve a rating model (collab train --out) for the map', { field: 'model' });
  }

  // Masks the scores (NaN = never picked) by the history and the filters, then takes the top n.
  private pick(history: Int32Array, options: RecommendOptions, ratingOf: ReadonlyMap<number, number>): ScoredItem[] {
    const n = requireInt('n', options.n ?? 10, 1, 10000);
    const scores = this.scores;
    this.rawScores.set(scores);
    this.catalogue.applyFilters(scores, options, this.minRatings);
    if (!options.includeRated) {
      // an EASE file is fitted on every rating it holds, so the history is all the model knows was seen
      const extra = knownItems(this.trained.train.itemIds, options.seen) ?? new Int32Array(0);
      for (const seen of [history, extra]) for (let t = 0; t < seen.length; t++) scores[seen[t]!] = NaN;
    }
    const top = topKForUser(scores, n);
    return Array.from(top.items, (i, t) => {
      const item = this.catalogue.scored(i, top.scores[t]!);
      item.rankScore = item.score;
      if (options.explain) item.because = this.because(i, history, ratingOf);
      return item;
    });
  }

  /**
   * "Because you watched ...": EASE scores movie i as Σ_j B_ji over the history j, so the reasons are the
   * history movies with the largest positive terms B_ji (reported as `similarity`), at most 3.
   */
  private because(i: number, history: Int32Array, ratingOf: ReadonlyMap<number, number>): BecauseReason[] {
    const { B, nItems } = this.trained.model;
    const terms = Array.from(history, (j) => ({ j, b: B[j * nItems + i]! })).filter((x) => x.b > 0);
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
