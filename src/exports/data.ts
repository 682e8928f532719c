/** collab/data: reading ratings files and MovieLens folders, id maps, splits, the dataset cache, statistics. */
export * from '../data/index.js';
export { IdMap, parseRawId, type RawId, type UnknownIdPolicy } from '../data/id-map.js';
export { selectRows, type Ratings, type Dataset, type ItemMeta, type UserMeta, type LoadReport } from '../data/ratings.js';
export {
  randomSplit,
  temporalSplit,
  userHoldoutSplit,
  joinSplit,
  coldCounts,
  type SplitResult,
  type UserSplitResult,
  type ColdPolicy,
} from '../data/split.js';
export { fetchDataset, type FetchOptions, type FetchResult } from '../data/cache.js';
export { KNOWN_DATASETS, collabHome, datasetCacheDir, type KnownDataset } from '../data/locate.js';
export { datasetIdentity, requireSameDataset, type DatasetIdentity } from '../data/identity.js';
export { RandomState } from '../core/random.js';
export { CollabError, type ErrorCode, type ErrorLocation } from '../core/errors.js';
