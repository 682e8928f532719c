/** collab/models: every model collab trains, rating models (with the hybrid), content, EASE and iALS. */
export * from '../models/index.js';
export { HybridModel, type HybridOptions } from '../models/hybrid.js';
export { PickHead } from '../models/pick-head.js';
export { buildUserFeatures, buildItemFeatures, USER_FEATURE_KINDS, ITEM_FEATURE_KINDS, type UserFeatureKind, type ItemFeatureKind } from '../models/hybrid-features.js';
export { ContentModel, tfidfVectors, type ContentOptions } from '../models/content.js';
export { EaseModel, fitEase, easeBytes, gramMatrix, EASE_DEFAULT_LAMBDA, type EaseOptions } from '../models/ease.js';
export { IalsModel, fitIals, ialsLoss, IALS_DEFAULTS, type IalsOptions, type IalsConfig } from '../models/ials.js';
