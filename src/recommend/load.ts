import { easeModelFromFile, EASE_KIND } from '../io/ease-model.js';
import { readModelFile } from '../io/model-file.js';
import { trainedModelFromFile } from '../io/trained-model.js';
import { EaseRecommender, type EaseRecommenderOptions } from './ease-recommender.js';
import { ModelRecommender, type ModelRecommenderOptions } from './recommender.js';

/**
 * Loads a saved model file and wraps it for recommendations and similar movies: a rating model
 * (collab train --out) as a ModelRecommender, an EASE model (collab rank --out) as an EaseRecommender.
 */
export async function loadRecommender(modelPath: string, options: ModelRecommenderOptions & EaseRecommenderOptions = {}): Promise<ModelRecommender | EaseRecommender> {
  const file = readModelFile(modelPath);
  if (file.manifest.kind === EASE_KIND) return new EaseRecommender(easeModelFromFile(modelPath, file), options);
  return new ModelRecommender(trainedModelFromFile(modelPath, file), options);
}
