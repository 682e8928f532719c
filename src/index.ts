/**
 * collab's front door: load ratings, train a learner, recommend, save and load again. The other pieces
 * are behind subpaths (package.json "exports"): collab/data, collab/models, collab/train, collab/metrics,
 * collab/recommend, collab/io, collab/plot, collab/kernels and collab/server.
 */
export { CollabError } from './core/errors.js';
export type { RawId } from './data/id-map.js';
export type { Dataset, ItemMeta, Ratings } from './data/ratings.js';
export { loadDataset, type LoadOptions } from './data/load.js';
export { readRatingsFile } from './data/read-delimited.js';
export { fetchDataset } from './data/cache.js';
export { randomSplit, temporalSplit, type SplitResult } from './data/split.js';
export {
  collabLearner,
  CollabLearner,
  type CollabLearnerOptions,
  type EpochStats,
  type LearnerRecommenderOptions,
} from './train/learner.js';
export { loadRecommender } from './recommend/load.js';
export type { ModelRecommender, ModelRecommenderOptions } from './recommend/recommender.js';
export type { ImplicitRecommender } from './recommend/implicit-recommender.js';
export type { GivenRating, MovieInfo, RecommendOptions, Recommender, ScoredItem } from './recommend/types.js';
