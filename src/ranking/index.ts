export { EaseModel, fitEase, easeBytes, gramMatrix, EASE_DEFAULT_LAMBDA, type EaseOptions } from '../models/ease.js';
export { spdInverse, DenseSpdInverse, denseSpdBytes, type DenseSpdOptions } from '../maths/dense.js';
export { IalsModel, fitIals, ialsLoss, IALS_DEFAULTS, type IalsOptions, type IalsConfig } from '../models/ials.js';
export {
  IMPLICIT_PROTOCOL_DESCRIPTION,
  averagePrecisionAllRelevant,
  evaluateTopN,
  implicitProtocol,
  type TopNReport,
  type TopNScorer,
} from '../evaluate/implicit-protocol.js';
