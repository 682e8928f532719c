import { loadTrainedModel } from '../io/trained-model.js';
import { ModelRecommender, type ModelRecommenderOptions } from './recommender.js';
import type { Recommender } from './types.js';

/** Loads a saved model file and wraps it for recommendations, similar movies and fold-in. */
export async function loadRecommender(modelPath: string, options: ModelRecommenderOptions = {}): Promise<ModelRecommender & Recommender> {
  return new ModelRecommender(loadTrainedModel(modelPath), options);
}
