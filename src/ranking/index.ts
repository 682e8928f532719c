export { EaseModel, fitEase, gramMatrix, spdInverse, EASE_DEFAULT_LAMBDA, type EaseOptions } from './ease.js';
export {
  IMPLICIT_PROTOCOL_DESCRIPTION,
  averagePrecisionAllRelevant,
  evaluateTopN,
  implicitProtocol,
  type TopNReport,
  type TopNScorer,
} from './protocol.js';
