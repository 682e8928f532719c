import { CollabError } from '../core/errors.js';
import { IdMap, type RawId } from '../data/id-map.js';
import type { DatasetIdentity } from '../data/identity.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { fingerprintRatings, writeModelFile, type JsonValue, type LoadedModelFile, type ModelManifest, type WeightTable } from './model-file.js';
import { itemsFromManifest, manifestItems, ratingsFromTables, ratingsTables } from './trained-model.js';

/**
 * A top-N model fitted on who rated what (EASE, iALS), with what recommending needs later: the training
 * ratings (its users' histories, the exclusion lists and the movies' rating counts) and the movies' titles
 * and genres. Its file is the rating models' format: the model's own tables, then the training ratings.
 */
export interface TrainedHistory<M> {
  model: M;
  /** Training ratings (dense indices on `userIds` / `itemIds`); only who rated what is used. */
  train: Ratings;
  /** Item metadata by raw item id (may be empty). */
  items: Map<RawId, ItemMeta>;
  /** The manifest it was loaded from (absent before the first save). */
  manifest?: ModelManifest;
  /** The dataset it was fitted on (its catalogue), recorded in the file; absent for bare ratings files. */
  dataset?: DatasetIdentity;
}

/** How one kind of history model is written: its manifest kind and config, its tables, and its name in messages. */
export interface HistoryModelSpec {
  kind: string;
  /** The model's name in messages ("EASE", "iALS"). */
  label: string;
  config: { [key: string]: JsonValue };
  tables: WeightTable[];
}

/** Saves a history model as a JSON manifest plus a Float32 weights file (its tables, then the training ratings). */
export function saveHistoryModel(path: string, trained: TrainedHistory<{ nUsers: number; nItems: number }>, spec: HistoryModelSpec): ModelManifest {
  const { model, train } = trained;
  if (model.nItems !== train.itemIds.size || model.nUsers !== train.userIds.size) {
    throw new CollabError(
      'INVALID_OPTION',
      `the ${spec.label} model covers ${model.nUsers} users × ${model.nItems} items but the training ratings have ${train.userIds.size} × ${train.itemIds.size}; save it with the ratings it was fitted on`,
      { field: 'train' },
    );
  }
  const manifest = writeModelFile(
    path,
    {
      kind: spec.kind,
      config: spec.config,
      userIds: train.userIds.ids(),
      itemIds: train.itemIds.ids(),
      items: manifestItems(train.itemIds, trained.items),
      history: { epochs: [] },
      dataFingerprint: fingerprintRatings(train.users, train.items, train.ratings),
      ...(trained.dataset ? { dataset: trained.dataset } : {}),
    },
    [...spec.tables, ...ratingsTables(train)],
  );
  trained.manifest = manifest;
  return manifest;
}

/** The parts of a history model's file that every kind reads alike, once its kind is checked. */
export interface HistoryModelParts {
  manifest: ModelManifest;
  tables: Map<string, Float32Array>;
  userIds: IdMap;
  itemIds: IdMap;
  train: Ratings;
  items: Map<RawId, ItemMeta>;
  dataset?: DatasetIdentity;
}

/**
 * Checks that a model file already read is of `kind` (BAD_MODEL naming `saveHint`, the command that
 * writes one, otherwise) and returns its id maps, training ratings, catalogue and dataset.
 */
export function historyModelParts(path: string, file: LoadedModelFile, kind: string, label: string, saveHint: string): HistoryModelParts {
  const { manifest, tables } = file;
  if (manifest.kind !== kind) {
    throw new CollabError('BAD_MODEL', `${path}: this is a ${manifest.kind} model, not an ${label} model; save one with ${saveHint}`);
  }
  const userIds = IdMap.fromIds(manifest.userIds);
  const itemIds = IdMap.fromIds(manifest.itemIds);
  const train = ratingsFromTables(tables, userIds, itemIds);
  return { manifest, tables, userIds, itemIds, train, items: itemsFromManifest(manifest, itemIds), ...(manifest.dataset ? { dataset: manifest.dataset } : {}) };
}
