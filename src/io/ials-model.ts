import { CollabError } from '../core/errors.js';
import { IdMap, type RawId } from '../data/id-map.js';
import type { DatasetIdentity } from '../data/identity.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { userItemsCsr } from '../evaluate/protocol.js';
import { IalsModel, ialsConfig, type IalsConfig } from '../ranking/ials.js';
import { fingerprintRatings, readModelFile, writeModelFile, type LoadedModelFile, type ModelManifest } from './model-file.js';
import { itemsFromManifest, manifestItems, ratingsFromTables, ratingsTables } from './trained-model.js';

/**
 * A fitted iALS model with what recommending needs later: the training ratings (its users' histories,
 * the exclusion lists and the movies' rating counts) and the movies' titles and genres. Saved in the
 * model-file format of EASE and the rating models: manifest kind 'ials', config = its {@link IalsConfig},
 * weight tables "user.factors" (nUsers × k) and "item.factors" (nItems × k) over the manifest's ids, then
 * the training-ratings tables.
 */
export interface TrainedIals {
  model: IalsModel;
  /** Training ratings (dense indices on `userIds` / `itemIds`); iALS only uses who rated what. */
  train: Ratings;
  /** Item metadata by raw item id (may be empty). */
  items: Map<RawId, ItemMeta>;
  /** The manifest it was loaded from (absent before the first save). */
  manifest?: ModelManifest;
  /** The dataset it was fitted on (its catalogue), recorded in the file; absent for bare ratings files. */
  dataset?: DatasetIdentity;
}

/** The manifest kind of an iALS model file. */
export const IALS_KIND = 'ials';

/** Saves a fitted iALS model as a JSON manifest plus a Float32 weights file (the factors, then the training ratings). */
export function saveIalsModel(path: string, trained: TrainedIals): ModelManifest {
  const { model, train } = trained;
  if (model.nItems !== train.itemIds.size || model.nUsers !== train.userIds.size) {
    throw new CollabError(
      'INVALID_OPTION',
      `the iALS model covers ${model.nUsers} users × ${model.nItems} items but the training ratings have ${train.userIds.size} × ${train.itemIds.size}; save it with the ratings it was fitted on`,
      { field: 'train' },
    );
  }
  const k = model.nFactors;
  const manifest = writeModelFile(
    path,
    {
      kind: IALS_KIND,
      config: { ...model.config },
      userIds: train.userIds.ids(),
      itemIds: train.itemIds.ids(),
      items: manifestItems(train.itemIds, trained.items),
      history: { epochs: [] },
      dataFingerprint: fingerprintRatings(train.users, train.items, train.ratings),
      ...(trained.dataset ? { dataset: trained.dataset } : {}),
    },
    [
      { name: 'user.factors', rows: model.nUsers, cols: k, data: model.userFactors },
      { name: 'item.factors', rows: model.nItems, cols: k, data: model.itemFactors },
      ...ratingsTables(train),
    ],
  );
  trained.manifest = manifest;
  return manifest;
}

/** Loads an iALS model saved by {@link saveIalsModel}, checking version, shapes and checksum. */
export function loadIalsModel(path: string): TrainedIals {
  return ialsModelFromFile(path, readModelFile(path));
}

/** Builds the iALS model of a model file already read (its kind must be 'ials'). */
export function ialsModelFromFile(path: string, file: LoadedModelFile): TrainedIals {
  const { manifest, tables } = file;
  if (manifest.kind !== IALS_KIND) {
    throw new CollabError('BAD_MODEL', `${path}: this is a ${manifest.kind} model, not an iALS model; save one with collab rank --model ials --out`);
  }
  const userIds = IdMap.fromIds(manifest.userIds);
  const itemIds = IdMap.fromIds(manifest.itemIds);
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
  const train = ratingsFromTables(tables, userIds, itemIds);
  const model = new IalsModel(itemIds.size, config, X, Y, userItemsCsr(train.users, train.items, userIds.size));
  return { model, train, items: itemsFromManifest(manifest, itemIds), manifest, ...(manifest.dataset ? { dataset: manifest.dataset } : {}) };
}
