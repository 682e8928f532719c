import { easeModelFromFile, EASE_KIND } from '../io/ease-model.js';
import { ialsModelFromFile, IALS_KIND } from '../io/ials-model.js';
import { readModelFile } from '../io/model-file.js';
import { trainedModelFromFile } from '../io/trained-model.js';
import { EaseRecommender } from './ease-recommender.js';
import { ialsRecommender } from './ials-recommender.js';
import type { ImplicitRecommender, ImplicitRecommenderOptions } from './implicit-recommender.js';
import { ModelRecommender, type ModelRecommenderOptions } from './recommender.js';

/**
 * Loads a saved model file and wraps it for recommendations and similar movies: a rating model
 * (collab train --out) as a ModelRecommender, an EASE or iALS model (collab rank --out) as an
 * ImplicitRecommender (EaseRecommender for EASE). Synchronous: the files are read whole before anything
 * is built, so there is nothing to overlap, and a caller in a worker or a CLI needs no await.
 */
export function loadRecommender(modelPath: string, options: ModelRecommenderOptions & ImplicitRecommenderOptions = {}): ModelRecommender | ImplicitRecommender {
  const file = readModelFile(modelPath);
  if (file.manifest.kind === EASE_KIND) return new EaseRecommender(easeModelFromFile(modelPath, file), options);
  if (file.manifest.kind === IALS_KIND) return ialsRecommender(ialsModelFromFile(modelPath, file), options);
  return new ModelRecommender(trainedModelFromFile(modelPath, file), options);
}
