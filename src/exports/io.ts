/** collab/io: model files (collab's own, EASE's, iALS's, Spark MLlib's ALSModel) and their checks. */
export { saveTrainedModel, loadTrainedModel, type TrainedModel, type SaveModelOptions } from '../io/trained-model.js';
export { writeModelFile, readModelFile, readModelManifest, fingerprintRatings, type ModelManifest } from '../io/model-file.js';
export { saveEaseModel, loadEaseModel, type TrainedEase } from '../io/ease-model.js';
export { saveIalsModel, loadIalsModel, type TrainedIals } from '../io/ials-model.js';
export { readSparkAls, writeSparkAls, trainedModelFromSparkAls, sparkAlsFromTrainedModel, type SparkAlsModel, type SparkCatalogue } from '../io/spark-als.js';
export { verifyModelFile } from '../io/verify.js';
export { writeFileAtomic } from '../core/atomic.js';
