/** Recommending from trained factors: top-k, similar rows, fold-in of new users, explanations. */
export {
  TopKHeap,
  topKForUser,
  topKAllUsers,
  topKRows,
  topKForVector,
  type TopKResult,
  type TopKMatrix,
  type TopKAllOptions,
  type TopKForVectorOptions,
} from '../maths/top-k.js';
export { rowNorms, cachedRowNorms, forgetRowNorms, cosineToAll, similarItems, similarUsers } from './similar.js';
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
} from './fold-in.js';
export { SoftmaxTable } from './softmax-table.js';
export { fitFeatureMap, userFeatureMap, hybridItemTables, type FeatureMap, type UserPrior, type HybridItemTables } from './feature-map.js';
export { becauseYouLiked, type BecauseYouLikedOptions, type Reason } from './explain.js';
export { writeAllRecommendations, recommendationRows, ALL_RECOMMENDATIONS_HEADER, type AllUsersRecommender, type WriteAllOptions } from './all-users.js';
export { FactorBlockScorer } from './block-scorer.js';
export { choleskySolve } from '../maths/cholesky.js';
