/**
 * collab's public library surface. The folders follow the data: data (read, split, fetch) → models →
 * train (learner, optimizers, schedules) → evaluate / recommend → io (model files) and plot.
 */
export { CollabError, type ErrorCode, type ErrorLocation } from './core/errors.js';
export { RandomState } from './core/random.js';
export { IdMap, parseRawId, type RawId, type UnknownIdPolicy } from './data/id-map.js';
export type { Ratings, Dataset, ItemMeta, UserMeta, LoadReport } from './data/ratings.js';
export { selectRows } from './data/ratings.js';
export * from './data/index.js';
export {
  randomSplit,
  temporalSplit,
  userHoldoutSplit,
  joinSplit,
  coldCounts,
  type SplitResult,
  type UserSplitResult,
  type ColdPolicy,
} from './data/split.js';
export { fetchDataset, type FetchOptions, type FetchResult } from './data/cache.js';
export { KNOWN_DATASETS, collabHome, datasetCacheDir, type KnownDataset } from './data/locate.js';
export { datasetStats, type DatasetStats } from './data/stats.js';
export { writeSyntheticRatings, syntheticRatings, type SyntheticOptions } from './data/synthetic.js';
export * from './models/index.js';
export * from './train/index.js';
export * from './evaluate/index.js';
export { evaluateModel, type EvaluateOptions, type EvaluationResult } from './evaluate/evaluate-model.js';
export * from './recommend/index.js';
export { ModelRecommender, type ModelRecommenderOptions } from './recommend/recommender.js';
export { loadRecommender } from './recommend/load.js';
export { EaseRecommender, type EaseRecommenderOptions } from './recommend/ease-recommender.js';
export { saveEaseModel, loadEaseModel, type TrainedEase } from './io/ease-model.js';
export { ImplicitRecommender, type HistoryModel, type ImplicitRecommenderOptions } from './recommend/implicit-recommender.js';
export { ialsRecommender } from './recommend/ials-recommender.js';
export { saveIalsModel, loadIalsModel, type TrainedIals } from './io/ials-model.js';
export { interpretModel, type Interpretation, type InterpretOptions } from './recommend/interpret.js';
export type { Recommender, RecommendOptions, ScoredItem, MovieInfo, GivenRating, MapPoint, BecauseReason } from './recommend/types.js';
export { saveTrainedModel, loadTrainedModel, type TrainedModel, type SaveModelOptions } from './io/trained-model.js';
export { writeModelFile, readModelFile, readModelManifest, fingerprintRatings, type ModelManifest } from './io/model-file.js';
export { readSparkAls, writeSparkAls, trainedModelFromSparkAls, sparkAlsFromTrainedModel, type SparkAlsModel, type SparkCatalogue } from './io/spark-als.js';
export { verifyModelFile } from './io/verify.js';
export { datasetIdentity, requireSameDataset, type DatasetIdentity } from './data/identity.js';
export * from './plot/index.js';
export { HybridModel, type HybridOptions } from './models/hybrid.js';
export { PickHead } from './models/pick-head.js';
export { buildUserFeatures, buildItemFeatures, USER_FEATURE_KINDS, ITEM_FEATURE_KINDS, type UserFeatureKind, type ItemFeatureKind } from './models/hybrid-features.js';
export { ContentModel, tfidfVectors, type ContentOptions } from './models/content.js';
export { EaseModel, fitEase, easeBytes, gramMatrix, EASE_DEFAULT_LAMBDA, type EaseOptions } from './models/ease.js';
export { spdInverse, DenseSpdInverse, denseSpdBytes, type DenseSpdOptions } from './maths/dense.js';
export { IalsModel, fitIals, ialsLoss, IALS_DEFAULTS, type IalsOptions, type IalsConfig } from './models/ials.js';
export {
  IMPLICIT_PROTOCOL_DESCRIPTION,
  averagePrecisionAllRelevant,
  evaluateTopN,
  implicitProtocol,
  type TopNReport,
  type TopNScorer,
} from './evaluate/implicit-protocol.js';
export {
  coldStartBenchmark,
  coldStartSeeds,
  formatColdStartTable,
  formatColdStartSummary,
  type ColdStartOptions,
  type ColdStartReport,
  type ColdStartSeedsReport,
  type ColdStartSummaryRow,
} from './evaluate/coldstart.js';
export { compareModels, summarizeFolds, type ComparisonRow, type CompareOptions } from './evaluate/compare.js';
export { baselinePredictors, evaluatePredictor, type Predictor } from './evaluate/evaluate-model.js';
