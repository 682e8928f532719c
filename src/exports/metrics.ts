/** collab/metrics: rating and ranking metrics, the evaluation protocols, baselines, comparisons and cold start. */
export * from '../evaluate/index.js';
export { evaluateModel, baselinePredictors, evaluatePredictor, type EvaluateOptions, type EvaluationResult, type Predictor } from '../evaluate/evaluate-model.js';
export { compareModels, summarizeFolds, type ComparisonRow, type CompareOptions } from '../evaluate/compare.js';
export {
  coldStartBenchmark,
  coldStartSeeds,
  formatColdStartTable,
  formatColdStartSummary,
  type ColdStartOptions,
  type ColdStartReport,
  type ColdStartSeedsReport,
  type ColdStartSummaryRow,
} from '../evaluate/coldstart.js';
export {
  IMPLICIT_PROTOCOL_DESCRIPTION,
  averagePrecisionAllRelevant,
  evaluateTopN,
  implicitProtocol,
  type TopNReport,
  type TopNScorer,
} from '../evaluate/implicit-protocol.js';
