import { easeModelFromFile, EASE_KIND } from './ease-model.js';
import { readModelFile, type ModelManifest } from './model-file.js';
import { trainedModelFromFile } from './trained-model.js';

/**
 * Checks a model file end to end: the manifest's fields and checksum, the weights' presence, size
 * and sha256, and that every table has the shape its kind and config need (by building the model).
 * Returns the manifest; throws BAD_MODEL naming the file and what is wrong. A service calls it before
 * swapping in a new model.
 */
export function verifyModelFile(path: string): ModelManifest {
  const file = readModelFile(path);
  if (file.manifest.kind === EASE_KIND) easeModelFromFile(path, file);
  else trainedModelFromFile(path, file);
  return file.manifest;
}
