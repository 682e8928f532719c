/** collab/recommend: recommenders over every kind of model, fold-in of new users, explanations, the map. */
export {
  foldInLinear,
  foldInSigmoid,
  foldInGradient,
  foldInSoftmax,
  softmaxCurvature,
  PICK_FOLD_IN_STEPS,
  type FoldInOptions,
  type SoftmaxFoldInOptions,
  type SigmoidFoldInOptions,
  type GradientFoldInOptions,
  type FoldInResult,
  type UserVectorModel,
} from '../recommend/fold-in.js';
export { SoftmaxTable } from '../recommend/softmax-table.js';
export { fitFeatureMap, userFeatureMap, hybridItemTables, type FeatureMap, type UserPrior, type HybridItemTables } from '../recommend/feature-map.js';
export { becauseYouLiked, type BecauseYouLikedOptions, type Reason } from '../recommend/explain.js';
export { writeAllRecommendations, recommendationRows, ALL_RECOMMENDATIONS_HEADER, type AllUsersRecommender, type WriteAllOptions } from '../recommend/all-users.js';
export { similarItems, similarUsers } from '../recommend/similar.js';
export { ModelRecommender, type ModelRecommenderOptions } from '../recommend/recommender.js';
export { loadRecommender } from '../recommend/load.js';
export { EaseRecommender, type EaseRecommenderOptions } from '../recommend/ease-recommender.js';
export { ImplicitRecommender, type HistoryModel, type ImplicitRecommenderOptions } from '../recommend/implicit-recommender.js';
export { ialsRecommender } from '../recommend/ials-recommender.js';
export { interpretModel, type Interpretation, type InterpretOptions } from '../recommend/interpret.js';
export type { Recommender, RecommendOptions, ScoredItem, MovieInfo, GivenRating, MapPoint, BecauseReason } from '../recommend/types.js';
