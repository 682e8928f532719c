import type { RawId } from '../data/id-map.js';

/** A movie as the catalogue shows it. */
export interface MovieInfo {
  itemId: RawId;
  title: string;
  genres: string[];
  year?: number;
  /** Ratings of this movie in the training data. */
  ratingCount: number;
  /** Mean training rating (NaN-free: 0 when unrated). */
  meanRating: number;
}

/** One "because you liked ..." reason. */
export interface BecauseReason {
  itemId: RawId;
  title: string;
  /** Cosine similarity of the two movies' embeddings. */
  similarity: number;
  /** The user's rating of the liked movie. */
  rating: number;
}

/** A recommended (or similar) movie with its score. */
export interface ScoredItem {
  itemId: RawId;
  title: string;
  genres: string[];
  year?: number;
  /** Predicted rating (recommendations) or cosine similarity (similar movies). */
  score: number;
  /**
   * What a recommendation list is sorted by: the predicted rating plus the popularity term (a rating
   * model), or the score itself (EASE). Absent for similar movies.
   */
  rankScore?: number;
  /** Why it was recommended, when asked for. */
  because?: BecauseReason[];
}

/** A (movie, rating) pair given by a user, with raw ids. */
export interface GivenRating {
  itemId: RawId;
  rating: number;
}

/** Dense users from..to-1. */
export interface UserRange {
  from: number;
  to: number;
}

/** Filters and options of a recommendation request. */
export interface RecommendOptions {
  /** Number of movies. Default 10. */
  n?: number;
  /** Only movies of this genre (case-insensitive). Default: any. */
  genre?: string;
  /** Only movies released in or after this year. */
  yearFrom?: number;
  /** Only movies released in or before this year. */
  yearTo?: number;
  /** Only movies with at least this many training ratings. Default 0 (known users), see docs. */
  minRatings?: number;
  /**
   * Include movies the user already rated. Default false: everything the user is known to have rated is
   * left out — the model's training and validation parts, the given ratings, and `seen`.
   */
  includeRated?: boolean;
  /** For a fold-in of someone the model knows (new ratings of a known user): what the model knows they rated is left out too. Default none. */
  seenBy?: RawId;
  /** Further movies the user rated that the model does not know of (a service database's ratings); unknown ids are ignored. Default none. */
  seen?: RawId[];
  /** Attach "because you liked" reasons. Default false. */
  explain?: boolean;
  /**
   * Ranks by predicted rating + w·ln(1 + ratings of the movie) instead of the predicted rating alone:
   * a predicted rating says how much a user would like a movie, not how likely they are to pick it, and
   * the blend ranks better by precision@k. A hybrid model with a pick head replaces ln(1 + count) by its
   * personalised log-popularity of the movie for this user (what people like them watch). The reported
   * score stays the predicted rating. Default 0.5.
   */
  popularityWeight?: number;
}

/** A point of the movie map (PCA of the movie embeddings). */
export interface MapPoint {
  itemId: RawId;
  title: string;
  x: number;
  y: number;
  ratingCount: number;
}

/** What a trained model offers to the CLI and the HTTP service. */
export interface Recommender {
  /** Model kind, hyperparameters, training history. */
  readonly info: {
    kind: string;
    config: Record<string, unknown>;
    history: unknown;
    nUsers: number;
    nItems: number;
    yRange?: [number, number];
    /** What recommendation scores are: predicted ratings (default), or EASE or iALS scores (ranking only, no rating scale). */
    scoreKind?: 'rating' | 'ease' | 'ials';
  };
  /** The movie catalogue (all movies the model knows). */
  movies(): MovieInfo[];
  /** One movie, or undefined. */
  movie(itemId: RawId): MovieInfo | undefined;
  /** Whether the model was trained with this user. */
  hasUser(userId: RawId): boolean;
  /** Top-N for a known user from the model as trained. Throws UNKNOWN_USER. */
  recommendForUser(userId: RawId, options?: RecommendOptions): ScoredItem[];
  /**
   * Top-N for every known user in dense order (or dense users from..to-1), each list what recommendForUser gives;
   * calls onUser per user (faster than one call per user).
   */
  recommendAllUsers?(options: RecommendOptions, onUser: (userId: RawId, items: ScoredItem[]) => void, range?: UserRange): void;
  /** Top-N for someone described only by ratings (fold-in, no retraining). Throws on an empty list or bad rating. */
  recommendForRatings(ratings: GivenRating[], options?: RecommendOptions): ScoredItem[];
  /** Movies most similar to one movie by embedding cosine. Throws UNKNOWN_ITEM. */
  similarItems(itemId: RawId, n?: number): ScoredItem[];
  /** 2-D PCA map of the `limit` most-rated movies. */
  movieMap(limit?: number): MapPoint[];
}

/** Whether a recommender ranks by who watched what (EASE, iALS: any rating counts as watched) rather than by predicted ratings. */
export function ranksByHistory(info: Recommender['info']): boolean {
  return info.scoreKind === 'ease' || info.scoreKind === 'ials';
}
