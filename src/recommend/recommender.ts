import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import { pca } from '../maths/pca.js';
import type { TrainedModel } from '../io/trained-model.js';
import { HybridModel } from '../models/hybrid.js';
import type { RatingModel } from '../models/model.js';
import { meanUser, scoreUserVector, userOf, type FactorScoring } from '../models/scoring.js';
import { becauseOfContributions, becauseYouLiked } from './explain.js';
import { foldInGradient, foldInScoring, scoringContributions } from './fold-in.js';
import { PickScorer } from './pick-scorer.js';
import { similarItems as similarRows } from './similar.js';
import { PrunedTopN } from './pruned-top-n.js';
import { Catalogue } from './catalogue.js';
import { hybridItemTables } from './feature-map.js';
import { TopKHeap, topKForUser } from '../maths/top-k.js';
import { CoWatch } from './co-watch.js';
import { knownItems, seenIndex, seenItemsOf } from '../data/seen.js';
import { userRatingsCsr, type UserItemsCsr } from '../data/user-items.js';
import type { GivenRating, MapPoint, MovieInfo, RecommendOptions, Recommender, ScoredItem, UserRange } from './types.js';
import { checkRange } from './user-range.js';

/** A model's factor scoring plus, for a hybrid with a pick head, its personalised popularity term. */
interface FactorView extends FactorScoring {
  /** A hybrid's pick head: its score of movie i for a user, b'_i + p'·q'_i, is a personalised ln(1 + count) for the ranking blend. */
  pick?: PickScorer;
}

// A movie without training ratings is what its metadata says to a hybrid's pick head, not its untrained id row.
function factorView(model: RatingModel, train: TrainedModel['train'], itemCounts: Int32Array, pickLambda: number): FactorView | undefined {
  const scoring = model.factorScoring?.();
  if (!scoring) return undefined;
  const view: FactorView = { ...scoring };
  if (model instanceof HybridModel) {
    const trainedItems = Uint8Array.from(itemCounts, (c) => (c > 0 ? 1 : 0));
    const { pick } = hybridItemTables(model, trainedItems);
    if (pick) {
      const trainedUsers = new Uint8Array(model.nUsers);
      for (let r = 0; r < train.users.length; r++) trainedUsers[train.users[r]!] = 1;
      view.pick = new PickScorer(model, pick, trainedUsers, trainedItems, pickLambda);
    }
  }
  return view;
}

/** Options of {@link ModelRecommender}. */
export interface ModelRecommenderOptions {
  /** Default `minRatings` for recommendations, so one lucky 5-star rating does not top the list. Default 5. */
  minRatings?: number;
  /** Default `minRatings` for similar movies (rare movies have noisy embeddings). Default 20. */
  similarMinRatings?: number;
  /** Fold-in ridge weight on the user vector, pulling it towards the mean trained user. Default 10. */
  foldInLambda?: number;
  /** Fold-in ridge weight on the user bias (with fewer, one rating would swing a new user too far). Default 5. */
  foldInBiasLambda?: number;
  /** Default `popularityWeight` of recommendations (see RecommendOptions). Default 0.5. */
  popularityWeight?: number;
  /** Ridge weight of a visitor's pick-vector fold-in (hybrid models with a pick head), towards the mean user. Default 1. */
  pickLambda?: number;
  /**
   * A visitor's popularity term is the co-watch term of their movies (see `CoWatch`) rather than global
   * popularity or a pick head's fold-in; needs the training ratings in the model file. Default true.
   */
  coWatch?: boolean;
  /**
   * Weight of a visitor's content term: each movie's mean TF-IDF similarity (genres, year, title words) to
   * the movies they rated highly (within a star of the top of the scale), added to the co-watch term. Five
   * ratings say little about taste beyond what everyone watches; the metadata says what kind of film they
   * like. Needs movie metadata and the co-watch term. Default {@link VISITOR_CONTENT_WEIGHT}.
   */
  contentWeight?: number;
}

/**
 * The default visitor content weight. Measured on ml-latest-small's new visitors (given 5, seed 42, the
 * default hybrid trained on the other users with movies.csv): weight 0 gives nDCG@10 0.606 (every test
 * movie relevant) / 0.476 (rated >= 4) and 2 of 10 family films for a visitor who gave 5 stars to Toy
 * Story, Finding Nemo and Shrek; 25 gives 0.605 / 0.482 and 5 of 10; 30 gives 0.595 / 0.474 and 6 of 10;
 * 40 gives 0.565 / 0.452 and 8 of 10. numpy EASE on the same files: 0.525 / 0.363.
 */
export const VISITOR_CONTENT_WEIGHT = 30;

/** One call's working buffers (every public call makes its own, so no result is left for the next caller). */
interface Scratch {
  /** The predicted rating of every movie; pick masks and blends it in place. */
  scores: Float32Array;
  /** The same before pick masks it: the ratings reported. */
  raw: Float32Array;
  /** One user's scores before the link (float64). */
  dots: Float64Array;
  /** The ranking blend's popularity term for this call: ln(1 + count), a pick head's scores or a visitor's co-watch term. */
  popularity: Float32Array;
}

/** Recommendations, similar movies and fold-in over a trained model (any kind with factor tables). */
export class ModelRecommender implements Recommender {
  readonly info: Recommender['info'];
  private readonly view: FactorView | undefined;
  /** Item embeddings of any kind of model (similarity, map, explanations). */
  private readonly embedding: { Q: Float32Array; k: number } | undefined;
  private readonly itemCounts: Int32Array;
  private readonly offsets: Int32Array;
  private readonly ratedItems: Int32Array;
  private readonly ratedValues: Float32Array;
  /** Everything each user is known to have rated (training and validation parts): left out of their recommendations. */
  private readonly seen: UserItemsCsr;
  private readonly minRatings: number;
  private readonly similarMinRatings: number;
  private readonly foldInLambda: number;
  private readonly foldInBiasLambda: number;
  private readonly popularityWeight: number;
  private readonly pickLambda: number;
  private readonly meanUser: { vector: Float32Array; bias: number } | undefined;
  private readonly catalogue: Catalogue;
  /** ln(1 + training ratings) per movie: the ranking blend's popularity term for models without a pick head. */
  private readonly logCounts: Float32Array;
  /** A visitor's popularity term; undefined when switched off or the file holds no training ratings. */
  private readonly coWatch: CoWatch | undefined;
  private readonly contentWeight: number;

  constructor(
    private readonly trained: TrainedModel,
    options: ModelRecommenderOptions = {},
  ) {
    const { model, train } = trained;
    this.catalogue = new Catalogue(train, trained.items);
    this.pickLambda = requireNumber('pickLambda', options.pickLambda ?? 1, 0);
    this.view = factorView(model, train, this.catalogue.itemCounts, this.pickLambda);
    this.embedding = this.view ? { Q: this.view.Q, k: this.view.k } : model.itemEmbeddings?.();
    this.minRatings = requireInt('minRatings', options.minRatings ?? 5, 0);
    this.similarMinRatings = requireInt('similarMinRatings', options.similarMinRatings ?? 20, 0);
    this.foldInLambda = requireNumber('foldInLambda', options.foldInLambda ?? 10, 0);
    this.foldInBiasLambda = requireNumber('foldInBiasLambda', options.foldInBiasLambda ?? 5, 0);
    this.popularityWeight = requireNumber('popularityWeight', options.popularityWeight ?? 0.5, 0);
    this.meanUser = this.view ? meanUser(this.view, model.nUsers) : undefined;
    const config = model.config();
    this.info = {
      kind: model.kind,
      config: describeConfig(config),
      history: trained.history,
      nUsers: model.nUsers,
      nItems: model.nItems,
      ...(Array.isArray(config.yRange) ? { yRange: config.yRange as [number, number] } : {}),
    };
    const nU = model.nUsers;
    const nI = model.nItems;
    const n = train.ratings.length;
    const byUser = userRatingsCsr(train, nU);
    this.offsets = byUser.offsets;
    this.ratedItems = byUser.items;
    this.ratedValues = byUser.ratings;
    const itemCounts = this.catalogue.itemCounts;
    this.itemCounts = itemCounts;
    this.seen = seenIndex(train, nU, trained.seen);
    this.logCounts = Float32Array.from(itemCounts, (c) => Math.log1p(c));
    this.coWatch = (options.coWatch ?? true) && n > 0 ? new CoWatch(this.seen, nI) : undefined;
    this.contentWeight = requireNumber('contentWeight', options.contentWeight ?? VISITOR_CONTENT_WEIGHT, 0);
  }

  /** The catalogue: every movie the model knows, in dense order. */
  movies(): MovieInfo[] {
    return this.catalogue.movies();
  }

  /** One movie by raw id, or undefined. */
  movie(itemId: RawId): MovieInfo | undefined {
    return this.catalogue.movie(itemId);
  }

  /** Whether the model was trained with this user. */
  hasUser(userId: RawId): boolean {
    return this.catalogue.hasUser(userId);
  }

  /** Raw ids and ratings of a known user's training ratings, in training order. */
  userRatings(userId: RawId): GivenRating[] {
    return this.catalogue.userRatings(userId);
  }

  /** Top-N for a known user, leaving out everything they are known to have rated (training, validation, `options.seen`). */
  recommendForUser(userId: RawId, options: RecommendOptions = {}): ScoredItem[] {
    const u = this.trained.train.userIds.lookup(userId, 'error', 'user');
    const s = this.scratch();
    this.scoreUser(u, s);
    const rated = this.ratedItems.subarray(this.offsets[u]!, this.offsets[u + 1]!);
    const values = this.ratedValues.subarray(this.offsets[u]!, this.offsets[u + 1]!);
    return this.pick(s, seenItemsOf(this.seen, u, knownItems(this.trained.train.itemIds, options.seen)), rated, values, options);
  }

  // Every call works in buffers of its own and returns its results: nothing is left for the next caller.
  private scratch(): Scratch {
    const n = this.trained.model.nItems;
    return { scores: new Float32Array(n), raw: new Float32Array(n), dots: new Float64Array(n), popularity: this.logCounts };
  }

  /**
   * Dense indices of the k best movies for dense user u among those u did not rate in training, ranked
   * as recommendations are (with the popularity blend) but with no other filter: the candidate set of
   * the evaluation protocol.
   */
  topUnratedForUser(u: number, k: number): Int32Array {
    const s = this.scratch();
    this.scoreUser(u, s);
    const w = this.popularityWeight;
    if (w > 0) for (let i = 0; i < s.scores.length; i++) s.scores[i]! += w * s.popularity[i]!;
    return topKForUser(s.scores, k, this.ratedItems.subarray(this.offsets[u]!, this.offsets[u + 1]!)).items;
  }

  // Fills s.scores with the predicted rating of every movie for dense user u, and s.popularity.
  private scoreUser(u: number, s: Scratch): void {
    const model = this.trained.model;
    const view = this.view;
    s.popularity = this.logCounts;
    if (view) {
      const user = userOf(view, u);
      scoreUserVector(view, user.vector, user.bias, s.scores, s.dots);
      if (view.pick) this.scorePick(view.pick.user(u), s);
    } else {
      const users = new Int32Array(model.nItems).fill(u);
      const items = new Int32Array(model.nItems);
      for (let i = 0; i < items.length; i++) items[i] = i;
      model.predictMany(users, items, s.scores);
    }
  }

  /** Top-N for a visitor described by ratings: their user vector is fitted with the movies fixed (fold-in). */
  recommendForRatings(ratings: GivenRating[], options: RecommendOptions = {}): ScoredItem[] {
    const s = this.scratch();
    const { given, contributionsOf } = this.foldIn(ratings, s, options.explain === true);
    return this.pick(s, this.visitorSeen(given.items, options), given.items, given.values, options, contributionsOf);
  }

  /** A visitor's predicted rating of every movie (dense order, unfiltered): the fold-in recommendForRatings ranks. */
  predictForRatings(ratings: GivenRating[]): Float32Array {
    const s = this.scratch();
    this.foldIn(ratings, s, false);
    return s.scores;
  }

  // Fits a visitor's vector with the movies fixed and fills s.scores and s.popularity; with `explain`, also
  // each pick's contributions (a visitor's reasons are the ratings that raised its score most).
  private foldIn(ratings: GivenRating[], s: Scratch, explain: boolean): { given: { items: Int32Array; values: Float32Array }; contributionsOf?: (item: number) => Float64Array } {
    const { items, values } = this.denseRatings(ratings);
    const order = sortedOrder(items);
    const given = { items: Int32Array.from(order, (t) => items[t]!), values: Float32Array.from(order, (t) => values[t]!) };
    const vectorModel = this.view ? undefined : this.trained.model.userVectorModel?.();
    s.popularity = this.coWatch ? this.coWatch.score(given.items, new Float32Array(this.trained.model.nItems)) : this.logCounts;
    const w = this.contentWeight;
    if (w > 0 && this.coWatch) {
      const top = this.catalogue.scale[1] - 1;
      const liked = given.items.filter((_, t) => given.values[t]! >= top);
      const affinity = this.catalogue.contentAffinity(liked, new Float32Array(this.trained.model.nItems));
      if (affinity) for (let j = 0; j < affinity.length; j++) s.popularity[j]! += w * affinity[j]!;
    }
    if (vectorModel) {
      // No closed form (nn): gradient steps on the user embedding from the mean trained user.
      const fitted = foldInGradient(vectorModel, this.trained.model.nItems, items, values, { lambda: this.foldInLambda / 10, init: vectorModel.meanUserVector?.() ?? new Float32Array(0) });
      const grad = new Float32Array(vectorModel.userSize);
      for (let i = 0; i < s.scores.length; i++) s.scores[i] = vectorModel.predictWithUser(fitted.userVector, i, grad);
      return { given };
    }
    const view = this.requireView('fold-in');
    const prior = this.meanUser!;
    const ridge = { lambda: this.foldInLambda, biasLambda: this.foldInBiasLambda, priorVector: prior.vector, priorBias: prior.bias };
    const fitted = foldInScoring(view, items, values, ridge);
    scoreUserVector(view, fitted.userVector, fitted.userBias, s.scores, s.dots);
    if (view.pick && !this.coWatch) this.scorePick(view.pick.foldIn(given.items), s);
    return explain ? { given, contributionsOf: scoringContributions(view, given.items, given.values, ridge) } : { given };
  }

  // The popularity term of the ranking blend from a pick vector p': b'_i + p'·q'_i for every movie.
  private scorePick(p: Float32Array, s: Scratch): void {
    const out = new Float32Array(this.trained.model.nItems);
    this.view!.pick!.score(p, out);
    s.popularity = out;
  }

  /** Movies closest to one movie by cosine of their embeddings, leaving out rarely rated ones. */
  similarItems(itemId: RawId, n = 10, minRatings = this.similarMinRatings): ScoredItem[] {
    requireInt('n', n, 1);
    const view = this.requireEmbedding('similar movies');
    const i = this.trained.train.itemIds.lookup(itemId, 'error', 'item');
    const rare: number[] = [];
    for (let j = 0; j < this.itemCounts.length; j++) if (this.itemCounts[j]! < minRatings) rare.push(j);
    const top = similarRows(view.Q, view.k, i, n, Int32Array.from(rare));
    return Array.from(top.items, (j, t) => this.catalogue.scored(j, top.scores[t]!));
  }

  /**
   * Movies closest to one movie by content (TF-IDF over genres, year and title words of the model's
   * catalogue): works for any model, and for movies the ratings say little about.
   */
  similarByContent(itemId: RawId, n = 10, minRatings = this.similarMinRatings): ScoredItem[] {
    return this.catalogue.similarByContent(this.trained.train.itemIds.lookup(itemId, 'error', 'item'), n, minRatings);
  }

  /** PCA of the movie embeddings: the `limit` most-rated movies on the first two components. */
  movieMap(limit = 300): MapPoint[] {
    const view = this.requireEmbedding('the movie map');
    const order = Array.from(this.itemCounts.keys()).sort((a, b) => this.itemCounts[b]! - this.itemCounts[a]! || a - b);
    const rows = Int32Array.from(order.slice(0, Math.min(limit, order.length)));
    const result = pca(view.Q, this.trained.model.nItems, view.k, 2, { rows });
    const ids = this.trained.train.itemIds;
    return Array.from(rows, (i, t) => ({
      itemId: ids.idOf(i),
      title: this.catalogue.titleOf(i),
      x: result.coordinates[t * 2]!,
      y: result.coordinates[t * 2 + 1]!,
      ratingCount: this.itemCounts[i]!,
    }));
  }

  private requireEmbedding(what: string): { Q: Float32Array; k: number } {
    if (!this.embedding) {
      throw new CollabError('INVALID_OPTION', `${what} needs a model with movie embeddings; this ${this.trained.model.kind} model has none`, { field: 'model' });
    }
    return this.embedding;
  }

  private requireView(what: string): FactorView {
    if (!this.view) {
      throw new CollabError('INVALID_OPTION', `${what} needs a dot-product model (dot, dotbias, mf); this is a ${this.trained.model.kind} model — train one of those for ${what}`, { field: 'model' });
    }
    return this.view;
  }

  /**
   * Top-N for every known user, in dense user order, each list what {@link recommendForUser} gives that user.
   * A factor model's lists come from {@link PrunedTopN}: the filters are applied once, and per user only the
   * movies whose bound can still reach the list are scored (in float64, as one user's scores are), so the
   * lists are the per-user lists bit for bit. `onUser` gets each list in turn.
   */
  recommendAllUsers(options: RecommendOptions, onUser: (userId: RawId, items: ScoredItem[]) => void, range?: UserRange): void {
    const ids = this.trained.train.userIds;
    const { from, to } = checkRange(range, this.trained.model.nUsers);
    const view = this.view;
    const n = requireInt('n', options.n ?? 10, 1, 10000);
    // the filters do not depend on the user: the movies they leave are the candidates of every user
    const mask = new Float32Array(this.trained.model.nItems);
    this.catalogue.applyFilters(mask, options, this.minRatings);
    const w = requireNumber('popularityWeight', options.popularityWeight ?? this.popularityWeight, 0);
    const candidates = new Int32Array(mask.length);
    let nc = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) candidates[nc++] = i;
    if (!view) {
      for (let u = from; u < to; u++) onUser(ids.idOf(u), this.recommendForUser(ids.idOf(u), options));
      return;
    }
    const topN = new PrunedTopN(view, candidates.subarray(0, nc), view.pick ?? this.logCounts, w);
    const heap = new TopKHeap(n);
    const extra = knownItems(this.trained.train.itemIds, options.seen);
    const linkValue = (i: number): number => topN.linkValue(i);
    for (let u = from; u < to; u++) {
      topN.select(u, options.includeRated ? undefined : seenItemsOf(this.seen, u, extra), heap);
      const top = heap.take();
      const rated = this.ratedItems.subarray(this.offsets[u]!, this.offsets[u + 1]!);
      const values = this.ratedValues.subarray(this.offsets[u]!, this.offsets[u + 1]!);
      onUser(ids.idOf(u), this.present(top.items, top.scores, linkValue, rated, values, options));
    }
  }

  private denseRatings(ratings: GivenRating[]): { items: Int32Array; values: Float32Array } {
    if (ratings.length === 0) {
      throw new CollabError('INVALID_OPTION', 'fold-in needs at least one (movie, rating) pair; give a few ratings', { field: 'ratings' });
    }
    const ids = this.trained.train.itemIds;
    const [lo, hi] = this.catalogue.scale;
    const seen = new Map<number, number>();
    for (const { itemId, rating } of ratings) {
      const i = ids.lookup(itemId, 'error', 'item');
      if (!Number.isFinite(rating) || rating < lo || rating > hi) {
        throw new CollabError('INVALID_OPTION', `rating ${rating} for movie ${itemId} is outside the model's scale ${lo}..${hi}`, { field: 'rating' });
      }
      seen.set(i, rating); // a movie rated twice keeps its last rating
    }
    return { items: Int32Array.from(seen.keys()), values: Float32Array.from(seen.values()) };
  }

  /** The rating scale of the training data. */
  ratingScale(): [number, number] {
    return this.catalogue.scale;
  }

  // A visitor has seen the movies they gave, whatever the caller adds (options.seen) and, when they are a
  // user the model knows (options.seenBy), everything the model knows they rated.
  private visitorSeen(given: Int32Array, options: RecommendOptions): Int32Array {
    const extra = knownItems(this.trained.train.itemIds, options.seen);
    const u = options.seenBy === undefined ? -1 : this.trained.train.userIds.indexOf(options.seenBy);
    return extra || u >= 0 ? seenItemsOf(this.seen, u, extra ? Int32Array.from([...given, ...extra]) : given) : given;
  }

  // Masks the scores (NaN = never picked) by the seen items and filters, then takes the top n; `rated`
  // and `values` are the ratings the reasons are drawn from.
  private pick(s: Scratch, seen: Int32Array, rated: Int32Array, values: Float32Array, options: RecommendOptions, contributionsOf?: (item: number) => Float64Array): ScoredItem[] {
    const n = requireInt('n', options.n ?? 10, 1, 10000);
    const scores = s.scores;
    s.raw.set(scores);
    this.catalogue.applyFilters(scores, options, this.minRatings);
    if (!options.includeRated) for (let t = 0; t < seen.length; t++) scores[seen[t]!] = NaN;
    const w = requireNumber('popularityWeight', options.popularityWeight ?? this.popularityWeight, 0);
    if (w > 0) for (let i = 0; i < scores.length; i++) scores[i]! += w * s.popularity[i]!;
    const top = topKForUser(scores, n);
    return this.present(top.items, top.scores, (i) => s.raw[i]!, rated, values, options, contributionsOf);
  }

  // The result rows of a ranked list: `items` best first with their rank scores, `predicted(i)` the
  // predicted rating of movie i before the blend.
  private present(
    items: Int32Array,
    rankScores: Float32Array,
    predicted: (i: number) => number,
    rated: Int32Array,
    values: Float32Array,
    options: RecommendOptions,
    contributionsOf?: (item: number) => Float64Array,
  ): ScoredItem[] {
    // Shown scores are predicted ratings kept on the rating scale (a sigmoid range reaches past the top).
    const [lo, hi] = this.catalogue.scale;
    const view = this.embedding;
    const reasons = options.explain ? this.reasonCandidates(rated, values) : { items: rated, values };
    return Array.from(items, (i, t) => {
      const item = this.catalogue.scored(i, Math.fround(Math.min(hi, Math.max(lo, predicted(i)))));
      item.rankScore = rankScores[t]!;
      if (options.explain && view) {
        const because = contributionsOf ? becauseOfContributions(view.Q, view.k, i, rated, values, contributionsOf(i), { n: 3 }) : becauseYouLiked(view.Q, view.k, i, reasons.items, reasons.values, { n: 3 });
        item.because = because.map((r) => ({
          itemId: this.trained.train.itemIds.idOf(r.item),
          title: this.catalogue.titleOf(r.item),
          similarity: r.similarity,
          rating: r.rating,
        }));
      }
      return item;
    });
  }

  // Rarely rated movies have noisy embeddings, so they make poor reasons: explanations come from the
  // user's movies with at least `similarMinRatings` ratings (all of them when none qualifies).
  private reasonCandidates(rated: Int32Array, values: Float32Array): { items: Int32Array; values: Float32Array } {
    const keep: number[] = [];
    for (let t = 0; t < rated.length; t++) if (this.itemCounts[rated[t]!]! >= this.similarMinRatings) keep.push(t);
    if (keep.length === 0) return { items: rated, values };
    return { items: Int32Array.from(keep, (t) => rated[t]!), values: Float32Array.from(keep, (t) => values[t]!) };
  }
}

// Hyperparameters as people read them: a hybrid's feature tables (an index list per user and movie)
// become their vocabulary size and first names, and long lists (its untrained movies) their length.
function describeConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const table = value as { names?: unknown; offsets?: unknown } | null;
    if (table && typeof table === 'object' && Array.isArray(table.names) && table.offsets !== undefined) {
      out[key] = { features: table.names.length, examples: table.names.slice(0, 20) };
    } else if (Array.isArray(value) && value.length > 20) out[key] = { count: value.length, first: value.slice(0, 20) };
    else out[key] = value;
  }
  return out;
}

function sortedOrder(items: Int32Array): number[] {
  return Array.from(items.keys()).sort((a, b) => items[a]! - items[b]!);
}
