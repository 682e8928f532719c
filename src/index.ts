/** collab's public library surface. */
export { CollabError, type ErrorCode } from './core/errors.js';
export { RandomState } from './core/random.js';
export { IdMap, parseRawId, type RawId, type UnknownIdPolicy } from './data/id-map.js';
export type { Ratings, Dataset, ItemMeta, UserMeta, LoadReport } from './data/ratings.js';
export type { RatingModel, ModelKind, Param } from './models/model.js';
