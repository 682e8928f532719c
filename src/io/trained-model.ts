import { CollabError } from '../core/errors.js';
import { IdMap, type RawId } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import type { DatasetIdentity } from '../data/identity.js';
import type { UserItemPairs } from '../data/seen.js';
import { createModel, loadParams, paramTables, type ParamTable } from '../models/factory.js';
import { modelEntry } from '../models/registry.js';
import type { RatingModel } from '../models/model.js';
import {
  fingerprintRatings,
  readModelFile,
  writeModelFile,
  type JsonValue,
  type ModelItemInfo,
  type LoadedModelFile,
  type ModelManifest,
  type TrainingHistory,
  type WeightTable,
} from './model-file.js';

/**
 * A trained model with everything needed to use it later: the id maps, the movies' titles and genres,
 * and the training ratings (so recommendations can leave out what a user already rated and explain
 * themselves with the user's liked movies).
 */
export interface TrainedModel {
  model: RatingModel;
  /** Training ratings (dense indices on `userIds` / `itemIds`). */
  train: Ratings;
  /**
   * What users rated beyond `train` (the validation part of the data the model was built from, dense
   * indices on the same id maps): recommendations leave these out too. Absent in files saved before it.
   */
  seen?: UserItemPairs;
  /** Item metadata by raw item id (may be empty). */
  items: Map<RawId, ItemMeta>;
  history: TrainingHistory;
  /** The manifest it was loaded from (absent before the first save). */
  manifest?: ModelManifest;
  /** The dataset it was trained on (its catalogue), recorded in the file; absent for bare ratings files. */
  dataset?: DatasetIdentity;
}

/** Options of {@link saveTrainedModel}. */
export interface SaveModelOptions {
  /** Keep the training ratings in the weights file (needed to exclude rated movies). Default true. */
  includeRatings?: boolean;
}

// Training ratings are kept as three Float32 tables.
const DATA_TABLES = ['data.users', 'data.items', 'data.ratings'] as const;
const FLOAT32_EXACT_INT = 1 << 24;

/** Saves a trained model as a JSON manifest plus a Float32 weights file, both written atomically. */
export function saveTrainedModel(path: string, trained: TrainedModel, options: SaveModelOptions = {}): ModelManifest {
  const { model, train } = trained;
  const tables: ParamTable[] = paramTables(model);
  for (const t of tables) {
    const k = t.data.findIndex((v) => !Number.isFinite(v));
    if (k >= 0) {
      throw new CollabError(
        'INVALID_OPTION',
        `the model's table "${t.name}" holds ${t.data[k]} at row ${Math.floor(k / t.cols)}: its training diverged; train again with a lower lr`,
        { field: 'model' },
      );
    }
  }
  // Non-learned state (nn's batch-norm running statistics) is saved beside the params.
  for (const b of model.buffers ?? []) tables.push({ name: b.name, rows: b.rows, cols: b.cols, data: b.value });
  if (options.includeRatings ?? true) {
    tables.push(...ratingsTables(train));
    if (trained.seen && trained.seen.users.length > 0) tables.push(...seenTables(trained.seen));
  }
  const items = manifestItems(train.itemIds, trained.items);
  const config = model.config() as { [key: string]: JsonValue };
  const yRange = (model.config().yRange as [number, number] | undefined) ?? undefined;
  const manifest = writeModelFile(
    path,
    {
      kind: model.kind,
      config,
      ...(yRange ? { yRange } : {}),
      userIds: train.userIds.ids(),
      itemIds: train.itemIds.ids(),
      items,
      history: jsonSafeHistory(trained.history),
      dataFingerprint: fingerprintRatings(train.users, train.items, train.ratings),
      ...(trained.dataset ? { dataset: trained.dataset } : {}),
    },
    tables,
  );
  trained.manifest = manifest;
  return manifest;
}

/** Loads a model saved by {@link saveTrainedModel}, checking version, shapes and checksum. */
export function loadTrainedModel(path: string): TrainedModel {
  return trainedModelFromFile(path, readModelFile(path));
}

/** Builds the trained model of a model file already read (its kind must be a rating model, not 'ease' or 'ials'). */
export function trainedModelFromFile(path: string, file: LoadedModelFile): TrainedModel {
  const { manifest, tables } = file;
  if (manifest.kind === 'ease') {
    throw new CollabError('BAD_MODEL', `${path}: this is an EASE ranking model (collab rank --out), which predicts no ratings; use it with collab recommend, similar or serve, or train a rating model with collab train`);
  }
  if (manifest.kind === 'ials') {
    throw new CollabError('BAD_MODEL', `${path}: this is an iALS ranking model (collab rank --model ials --out), which predicts no ratings; use it with collab recommend, similar or serve, or train a rating model with collab train`);
  }
  const userIds = IdMap.fromIds(manifest.userIds);
  const itemIds = IdMap.fromIds(manifest.itemIds);
  const entry = modelEntry(manifest.kind);
  // files written before a setting existed lack it; the registry knows the value that reproduces them
  const config: Record<string, unknown> = { ...(manifest.config as Record<string, unknown>) };
  for (const [key, value] of Object.entries(entry.savedDefaults ?? {})) config[key] ??= value;
  const model = createModel(entry.kind, userIds.size, itemIds.size, config);
  const paramList: ParamTable[] = model.params.map((p) => {
    const data = tables.get(p.name);
    const info = manifest.weights.tables.find((t) => t.name === p.name);
    if (!data || !info) throw new CollabError('BAD_MODEL', `${path}: the weights have no table "${p.name}" that a ${model.kind} model needs; retrain`);
    // the file's own shape, so a mismatch names both
    return { name: p.name, rows: info.rows, cols: info.cols, data };
  });
  try {
    loadParams(model, paramList);
  } catch (err) {
    // loadParams names both shapes; the path says which file they came from
    if (err instanceof CollabError) throw new CollabError(err.code, `${path}: ${err.message}`, {}, { cause: err });
    throw err;
  }
  for (const b of model.buffers ?? []) {
    const data = tables.get(b.name);
    const info = manifest.weights.tables.find((t) => t.name === b.name);
    if (data && info && data.length !== b.value.length) {
      throw new CollabError('BAD_MODEL', `${path}: table "${b.name}" is ${info.rows}x${info.cols} but the ${model.kind} model expects ${b.rows}x${b.cols}; the file does not match its config — retrain`);
    }
    if (!data) {
      throw new CollabError('BAD_MODEL', `${path}: the weights have no ${b.rows}x${b.cols} table "${b.name}" that a ${model.kind} model needs; retrain`);
    }
    b.value.set(data);
  }
  const train = ratingsFromTables(tables, userIds, itemIds);
  const items = itemsFromManifest(manifest, itemIds);
  const seen = seenFromTables(tables);
  return {
    model,
    train,
    ...(seen ? { seen } : {}),
    items,
    history: manifest.history,
    manifest,
    ...(manifest.dataset ? { dataset: manifest.dataset } : {}),
  };
}

/** The training ratings as the three Float32 tables of a model file (dense indices below 2^24 are exact in Float32). */
export function ratingsTables(train: Ratings): WeightTable[] {
  if (train.userIds.size >= FLOAT32_EXACT_INT || train.itemIds.size >= FLOAT32_EXACT_INT) {
    throw new CollabError('INVALID_OPTION', 'too many users or items to keep the training ratings in the model file; save without them', { field: 'includeRatings' });
  }
  const n = train.ratings.length;
  return [
    { name: DATA_TABLES[0], rows: n, cols: 1, data: Float32Array.from(train.users) },
    { name: DATA_TABLES[1], rows: n, cols: 1, data: Float32Array.from(train.items) },
    { name: DATA_TABLES[2], rows: n, cols: 1, data: train.ratings },
  ];
}

// The validation part's (user, item) pairs: two Float32 tables, exact below 2^24 like the ratings.
const SEEN_TABLES = ['seen.users', 'seen.items'] as const;

function seenTables(seen: UserItemPairs): WeightTable[] {
  return [
    { name: SEEN_TABLES[0], rows: seen.users.length, cols: 1, data: Float32Array.from(seen.users) },
    { name: SEEN_TABLES[1], rows: seen.items.length, cols: 1, data: Float32Array.from(seen.items) },
  ];
}

function seenFromTables(tables: Map<string, Float32Array>): UserItemPairs | undefined {
  const su = tables.get(SEEN_TABLES[0]);
  const si = tables.get(SEEN_TABLES[1]);
  if (!su || !si || su.length === 0) return undefined;
  return { users: Int32Array.from(su), items: Int32Array.from(si) };
}

/** The training ratings back from a model file's tables (empty when it was saved without them). */
export function ratingsFromTables(tables: Map<string, Float32Array>, userIds: IdMap, itemIds: IdMap): Ratings {
  const du = tables.get(DATA_TABLES[0]);
  const di = tables.get(DATA_TABLES[1]);
  const dr = tables.get(DATA_TABLES[2]);
  const n = du && di && dr ? dr.length : 0;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    users[r] = du![r]!;
    items[r] = di![r]!;
  }
  return { users, items, ratings: n > 0 ? Float32Array.from(dr!) : new Float32Array(0), userIds, itemIds };
}

/** The manifest's movie metadata (title, genres, year) of the items a model knows. */
export function manifestItems(itemIds: IdMap, meta: Map<RawId, ItemMeta>): { [itemId: string]: ModelItemInfo } {
  const items: { [itemId: string]: ModelItemInfo } = {};
  for (const id of itemIds.ids()) {
    const m = meta.get(id);
    if (!m) continue;
    const info: ModelItemInfo = { title: m.title, genres: m.genres };
    if (m.year !== undefined) info.year = m.year;
    items[String(id)] = info;
  }
  return items;
}

/** The movie metadata of a manifest by raw item id (JSON keys are strings; numeric ids come back as numbers). */
export function itemsFromManifest(manifest: ModelManifest, itemIds: IdMap): Map<RawId, ItemMeta> {
  const items = new Map<RawId, ItemMeta>();
  for (const [key, info] of Object.entries(manifest.items ?? {})) {
    const id = itemIds.has(key) ? key : Number(key);
    const meta: ItemMeta = { title: info.title, genres: info.genres };
    if (info.year !== undefined) meta.year = info.year;
    items.set(id, meta);
  }
  return items;
}

// Epochs trained without validation carry NaN metrics; JSON has no NaN, so those fields are left out.
function jsonSafeHistory(history: TrainingHistory): TrainingHistory {
  const epochs = history.epochs.map((e) => {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(e)) if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
    return out as unknown as TrainingHistory['epochs'][number];
  });
  return history.batchLosses ? { epochs, batchLosses: history.batchLosses.filter(Number.isFinite) } : { epochs };
}
