/** Evaluation: rating and ranking metrics, the top-N protocol, baselines and PCA. */
export { mse, rmse, mae, ratingReport, type RatingReport } from './rating-metrics.js';
export {
  precisionAtK,
  recallAtK,
  ndcgAtK,
  averagePrecisionAtK,
  hitRateAtK,
  reciprocalRankAtK,
  catalogueCoverage,
  rankingReport,
  type RankingReport,
  type RelevantSet,
} from './ranking-metrics.js';
export { PROTOCOL_DESCRIPTION, relevantByUser, rankingProtocol, type ProtocolOptions, type RankingProtocol } from './protocol.js';
export { userItemsCsr, itemsOfUser, candidateItems, type RatingColumns, type UserItemsCsr } from '../data/user-items.js';
export {
  globalMean,
  fitBiasBaseline,
  predictBaseline,
  predictGlobalMean,
  popularityScores,
  popularityRanking,
  type BaselineOptions,
  type BiasBaseline,
} from '../models/baselines.js';
export { pca, type PcaOptions, type PcaResult } from '../maths/pca.js';
