import { CollabError } from '../core/errors.js';
import { IdMap, type RawId } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import type { DatasetIdentity } from '../data/identity.js';
import { userItemsCsr } from '../evaluate/protocol.js';
import { EaseModel } from '../ranking/ease.js';
import { fingerprintRatings, readModelFile, writeModelFile, type LoadedModelFile, type ModelManifest } from './model-file.js';
import { itemsFromManifest, manifestItems, ratingsFromTables, ratingsTables } from './trained-model.js';

/**
 * A fitted EASE model with what recommending needs later: the training ratings it was fitted on (its
 * users' histories, the exclusion lists and the movies' rating counts) and the movies' titles and genres.
 * Saved in the same model-file format as the rating models: manifest kind 'ease', config
 * {lambda, nItems}, one weight table "B" (nItems × nItems over the manifest's itemIds, in order) and the
 * training-ratings tables.
 */
export interface TrainedEase {
  model: EaseModel;
  /** Training ratings (dense indices on `userIds` / `itemIds`); EASE only uses who rated what. */
  train: Ratings;
  /** Item metadata by raw item id (may be empty). */
  items: Map<RawId, ItemMeta>;
  /** The manifest it was loaded from (absent before the first save). */
  manifest?: ModelManifest;
  /** The dataset it was fitted on (its catalogue), recorded in the file; absent for bare ratings files. */
  dataset?: DatasetIdentity;
}

/** The manifest kind of an EASE model file. */
export const EASE_KIND = 'ease';

/** Saves a fitted EASE model as a JSON manifest plus a Float32 weights file (B, then the training ratings). */
export function saveEaseModel(path: string, trained: TrainedEase): ModelManifest {
  const { model, train } = trained;
  if (model.nItems !== train.itemIds.size || model.nUsers !== train.userIds.size) {
    throw new CollabError(
      'INVALID_OPTION',
      `the EASE model covers ${model.nUsers} users × ${model.nItems} items but the training ratings have ${train.userIds.size} × ${train.itemIds.size}; save it with the ratings it was fitted on`,
      { field: 'train' },
    );
  }
  const m = model.nItems;
  const manifest = writeModelFile(
    path,
    {
      kind: EASE_KIND,
      config: { lambda: model.lambda, nItems: m },
      userIds: train.userIds.ids(),
      itemIds: train.itemIds.ids(),
      items: manifestItems(train.itemIds, trained.items),
      history: { epochs: [] },
      dataFingerprint: fingerprintRatings(train.users, train.items, train.ratings),
      ...(trained.dataset ? { dataset: trained.dataset } : {}),
    },
    [{ name: 'B', rows: m, cols: m, data: model.B }, ...ratingsTables(train)],
  );
  trained.manifest = manifest;
  return manifest;
}

/** Loads an EASE model saved by {@link saveEaseModel}, checking version, shapes and checksum. */
export function loadEaseModel(path: string): TrainedEase {
  return easeModelFromFile(path, readModelFile(path));
}

/** Builds the EASE model of a model file already read (its kind must be 'ease'). */
export function easeModelFromFile(path: string, file: LoadedModelFile): TrainedEase {
  const { manifest, tables } = file;
  if (manifest.kind !== EASE_KIND) {
    throw new CollabError('BAD_MODEL', `${path}: this is a ${manifest.kind} model, not an EASE model; save one with collab rank --out`);
  }
  const userIds = IdMap.fromIds(manifest.userIds);
  const itemIds = IdMap.fromIds(manifest.itemIds);
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
  const train = ratingsFromTables(tables, userIds, itemIds);
  if (train.ratings.length === 0) {
    throw new CollabError('BAD_MODEL', `${path}: the EASE model has no training ratings (its users' histories); re-save it with collab rank --out`);
  }
  const model = new EaseModel(m, B, lambda, userItemsCsr(train.users, train.items, userIds.size));
  return { model, train, items: itemsFromManifest(manifest, itemIds), manifest, ...(manifest.dataset ? { dataset: manifest.dataset } : {}) };
}
