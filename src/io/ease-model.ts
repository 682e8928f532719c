import { CollabError } from '../core/errors.js';
import { userItemsCsr } from '../data/user-items.js';
import { EaseModel } from '../models/ease.js';
import { historyModelParts, saveHistoryModel, type TrainedHistory } from './history-model-file.js';
import { readModelFile, type LoadedModelFile, type ModelManifest } from './model-file.js';

/**
 * A fitted EASE model with what recommending needs later: the training ratings it was fitted on (its
 * users' histories, the exclusion lists and the movies' rating counts) and the movies' titles and genres.
 * Saved in the same model-file format as the rating models: manifest kind 'ease', config
 * {lambda, nItems}, one weight table "B" (nItems × nItems over the manifest's itemIds, in order) and the
 * training-ratings tables.
 */
export type TrainedEase = TrainedHistory<EaseModel>;

/** The manifest kind of an EASE model file. */
export const EASE_KIND = 'ease';

/** Saves a fitted EASE model as a JSON manifest plus a Float32 weights file (B, then the training ratings). */
export function saveEaseModel(path: string, trained: TrainedEase): ModelManifest {
  const m = trained.model.nItems;
  return saveHistoryModel(path, trained, { kind: EASE_KIND, label: 'EASE', config: { lambda: trained.model.lambda, nItems: m }, tables: [{ name: 'B', rows: m, cols: m, data: trained.model.B }] });
}

/** Loads an EASE model saved by {@link saveEaseModel}, checking version, shapes and checksum. */
export function loadEaseModel(path: string): TrainedEase {
  return easeModelFromFile(path, readModelFile(path));
}

/** Builds the EASE model of a model file already read (its kind must be 'ease'). */
export function easeModelFromFile(path: string, file: LoadedModelFile): TrainedEase {
  const { manifest, tables, userIds, itemIds, train, ...rest } = historyModelParts(path, file, EASE_KIND, 'EASE', 'collab rank --out');
  const m = itemIds.size;
  const lambda = manifest.config.lambda;
  if (typeof lambda !== 'number' || manifest.config.nItems !== m) {
    throw new CollabError('BAD_MODEL', `${path}: the EASE config must be {lambda: number, nItems: ${m}}, got ${JSON.stringify(manifest.config)}; re-save it with collab rank --out`);
  }
  const B = tables.get('B');
  const bInfo = manifest.weights.tables.find((t) => t.name === 'B');
  if (B && bInfo && B.length !== m * m) {
    throw new CollabError('BAD_MODEL', `${path}: table "B" is ${bInfo.rows}x${bInfo.cols} but an EASE model of ${m} items needs ${m}x${m}; re-save it with collab rank --out`);
  }
  if (!B) {
    throw new CollabError('BAD_MODEL', `${path}: the weights have no ${m}x${m} table "B" that an EASE model needs; re-save it with collab rank --out`);
  }
  if (train.ratings.length === 0) {
    throw new CollabError('BAD_MODEL', `${path}: the EASE model has no training ratings (its users' histories); re-save it with collab rank --out`);
  }
  const model = new EaseModel(m, B, lambda, userItemsCsr(train.users, train.items, userIds.size));
  return { model, train, manifest, ...rest };
}
