import { CollabError } from '../core/errors.js';
import { userItemsCsr } from '../data/user-items.js';
import { IalsModel, ialsConfig, type IalsConfig } from '../models/ials.js';
import { historyModelParts, saveHistoryModel, type TrainedHistory } from './history-model-file.js';
import { readModelFile, type LoadedModelFile, type ModelManifest } from './model-file.js';

/**
 * A fitted iALS model with what recommending needs later: the training ratings (its users' histories,
 * the exclusion lists and the movies' rating counts) and the movies' titles and genres. Saved in the
 * model-file format of EASE and the rating models: manifest kind 'ials', config = its {@link IalsConfig},
 * weight tables "user.factors" (nUsers × k) and "item.factors" (nItems × k) over the manifest's ids, then
 * the training-ratings tables.
 */
export type TrainedIals = TrainedHistory<IalsModel>;

/** The manifest kind of an iALS model file. */
export const IALS_KIND = 'ials';

/** Saves a fitted iALS model as a JSON manifest plus a Float32 weights file (the factors, then the training ratings). */
export function saveIalsModel(path: string, trained: TrainedIals): ModelManifest {
  const { model } = trained;
  const k = model.nFactors;
  return saveHistoryModel(path, trained, {
    kind: IALS_KIND,
    label: 'iALS',
    config: { ...model.config },
    tables: [
      { name: 'user.factors', rows: model.nUsers, cols: k, data: model.userFactors },
      { name: 'item.factors', rows: model.nItems, cols: k, data: model.itemFactors },
    ],
  });
}

/** Loads an iALS model saved by {@link saveIalsModel}, checking version, shapes and checksum. */
export function loadIalsModel(path: string): TrainedIals {
  return ialsModelFromFile(path, readModelFile(path));
}

/** Builds the iALS model of a model file already read (its kind must be 'ials'). */
export function ialsModelFromFile(path: string, file: LoadedModelFile): TrainedIals {
  const { manifest, tables, userIds, itemIds, train, ...rest } = historyModelParts(path, file, IALS_KIND, 'iALS', 'collab rank --model ials --out');
  let config: IalsConfig;
  try {
    config = ialsConfig(manifest.config as Record<string, number>);
  } catch (e) {
    throw new CollabError('BAD_MODEL', `${path}: the iALS config is damaged (${(e as Error).message}); re-save it with collab rank --model ials --out`);
  }
  const k = config.factors;
  const X = tables.get('user.factors');
  const Y = tables.get('item.factors');
  if (!X || X.length !== userIds.size * k || !Y || Y.length !== itemIds.size * k) {
    throw new CollabError('BAD_MODEL', `${path}: the weights need tables "user.factors" (${userIds.size}x${k}) and "item.factors" (${itemIds.size}x${k}) for an iALS model; re-save it with collab rank --model ials --out`);
  }
  const model = new IalsModel(itemIds.size, config, X, Y, userItemsCsr(train.users, train.items, userIds.size));
  return { model, train, manifest, ...rest };
}
