import { CollabError } from '../core/errors.js';
import type { Recommender } from './types.js';

/**
 * PLACEHOLDER of the serve branch: the lead's version (a Recommender built from a trained model file)
 * replaces this file. Until then every model path fails with BAD_MODEL.
 */
export async function loadRecommender(modelPath: string): Promise<Recommender> {
  throw new CollabError('BAD_MODEL', 'model loading is not merged yet', { file: modelPath });
}
