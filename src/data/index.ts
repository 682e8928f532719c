/** The data layer's public surface (re-exported by src/index.ts). */
export {
  readRatingsFile,
  parseDelimitedText,
  readTextFile,
  detectDelimiter,
  splitLine,
  type ReadOptions,
  type ReadResult,
  type FileLayout,
  type Delimiter,
  type TextEncoding,
  type DuplicatePolicy,
  type ColumnRef,
  type TextRow,
} from './read-delimited.js';
export {
  readMovieLensFolder,
  readMovieLensMetadata,
  detectMovieLensFormat,
  yearFromTitle,
  MOVIELENS_LAYOUTS,
  ML1M_AGE_RANGES,
  ML1M_OCCUPATIONS,
  type MovieLensLayout,
  type MovieLensMetadata,
  type MovieLensOptions,
  type MovieLensUserMeta,
} from './movielens.js';
export { loadDataset, findDatasetFolder, readSplitFiles, type LoadOptions } from './load.js';
export { writeSyntheticRatings, syntheticRatings, type SyntheticOptions, type SyntheticSummary, type SyntheticTruth } from './synthetic.js';
export { datasetStats, formatStats, type DatasetStats, type CountSummary, type HistogramBin, type MetadataCoverage } from './stats.js';
