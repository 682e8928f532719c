/** The rating models and how to build them. */
export { Grad, type Param, type RatingModel, type ModelKind } from './model.js';
export { EmbeddingDot, type DotOptions } from './dot.js';
export { EmbeddingDotBias, type DotBiasOptions } from './dotbias.js';
export { BiasedMF, funkSgd, type MFOptions } from './mf.js';
export { createModel, loadParams, paramTables, MODEL_KINDS, type ParamTable } from './factory.js';
export { EmbeddingNN, embSizeRule, type EmbeddingNNOptions } from './nn.js';
export { truncNormal, uniform, normal } from './init.js';
