import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CollabError } from '../core/errors.js';
import { IdMap, type RawId } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { createModel } from '../models/factory.js';
import type { TrainedModel } from './trained-model.js';

/**
 * Spark MLlib's ALSModel on disk, read and written with hyparquet (snappy as Spark writes it):
 *
 *   DIR/metadata/part-00000        one JSON line: class, timestamp, sparkVersion, uid, paramMap,
 *                                  defaultParamMap, rank
 *   DIR/userFactors/part-*.parquet rows (id: int, features: array<float>), one per user
 *   DIR/itemFactors/part-*.parquet the same per item
 *   DIR/<each folder>/_SUCCESS     written last by Spark's job committer
 *
 * The model predicts p_u · q_i, which is collab's `dot` model.
 */

/** The class name Spark writes into an ALSModel's metadata. */
export const SPARK_ALS_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';
/** The Spark version collab writes into exported metadata (the layout is the same across 3.x). */
export const SPARK_VERSION = '3.5.1';

/** One factor table of an ALSModel: integer ids and their rows. */
export interface SparkFactorTable {
  /** Spark's integer id of each row. */
  ids: Int32Array;
  /** ids.length × rank, row-major. */
  factors: Float32Array;
}

/** An ALSModel's content. */
export interface SparkAlsModel {
  rank: number;
  users: SparkFactorTable;
  items: SparkFactorTable;
  /** The metadata JSON as read (undefined for a model about to be written). */
  metadata?: Record<string, unknown>;
  /** Name of the user id column (paramMap.userCol). Default 'userId'. */
  userCol?: string;
  /** Name of the item id column (paramMap.itemCol). Default 'movieId'. */
  itemCol?: string;
}

function missing(dir: string, part: string, why: string): CollabError {
  return new CollabError('BAD_FILE', `${part} is missing; ${why}`, { file: dir });
}

/** Reads the metadata line and checks it describes an ALSModel with a rank. */
function readMetadata(dir: string): { metadata: Record<string, unknown>; rank: number } {
  const metaDir = join(dir, 'metadata');
  if (!existsSync(metaDir)) throw missing(dir, 'metadata/', 'this is not a Spark ALSModel directory (ALSModel.save writes metadata/, userFactors/ and itemFactors/)');
  const part = readdirSync(metaDir).filter((f) => f.startsWith('part-')).sort()[0];
  if (part === undefined) throw missing(dir, 'metadata/part-00000', 'the Spark save did not finish; save the model again');
  const file = join(metaDir, part);
  const line = readFileSync(file, 'utf8').split('\n')[0] ?? '';
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    throw new CollabError('BAD_FILE', `not JSON (${(err as Error).message}); ALSModel metadata is one JSON object`, { file, line: 1 });
  }
  if (metadata === null || typeof metadata !== 'object' || metadata.class !== SPARK_ALS_CLASS) {
    throw new CollabError('BAD_FILE', `class is ${JSON.stringify((metadata as { class?: unknown } | null)?.class)}, expected "${SPARK_ALS_CLASS}"; save the model with ALSModel.save (or model.write().save)`, { file, line: 1 });
  }
  const params = metadata.paramMap as Record<string, unknown> | undefined;
  // Spark writes rank beside paramMap (the model's extra metadata); accept it inside paramMap too
  const rank = metadata.rank ?? params?.rank;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) {
    throw new CollabError('BAD_FILE', `rank is ${JSON.stringify(rank)}, expected a positive integer`, { file, line: 1, field: 'rank' });
  }
  return { metadata, rank };
}

/** Reads every Parquet part of userFactors/ or itemFactors/, rows in ascending id order. */
async function readFactorFolder(dir: string, sub: string, rank: number): Promise<SparkFactorTable> {
  const folder = join(dir, sub);
  if (!existsSync(folder)) throw missing(dir, `${sub}/`, 'the Spark save did not finish or the folder was not copied; save the model again');
  const names = readdirSync(folder);
  if (!names.includes('_SUCCESS')) throw missing(dir, `${sub}/_SUCCESS`, 'the Spark job writing it did not finish; save the model again');
  const parts = names.filter((f) => f.startsWith('part-') && f.endsWith('.parquet')).sort();
  if (parts.length === 0) throw missing(dir, `${sub}/part-*.parquet`, 'the folder holds no Parquet part files; save the model again');
  const rows: { id: number; features: ArrayLike<number> }[] = [];
  for (const name of parts) {
    const file = join(folder, name);
    const bytes = readFileSync(file);
    let objects: Record<string, unknown>[];
    try {
      objects = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), compressors });
    } catch (err) {
      throw new CollabError('BAD_FILE', `not a readable Parquet file (${(err as Error).message})`, { file });
    }
    objects.forEach((o, r) => {
      if (!('id' in o) || !('features' in o)) {
        throw new CollabError('BAD_FILE', `row ${r} has no ${'id' in o ? '"features"' : '"id"'} column; ALSModel factor files have columns id: int and features: array<float>`, { file, field: 'id' in o ? 'features' : 'id' });
      }
      const id = Number(o.id);
      const features = o.features as ArrayLike<number> | null;
      if (!Number.isInteger(id) || id < -(2 ** 31) || id >= 2 ** 31) throw new CollabError('BAD_FILE', `row ${r}: id ${String(o.id)} is not a 32-bit integer`, { file, field: 'id' });
      if (features === null || typeof features !== 'object' || features.length !== rank) {
        throw new CollabError('BAD_FILE', `row ${r} (id ${id}) has ${features?.length ?? 0} features, expected the metadata's rank ${rank}`, { file, field: 'features' });
      }
      rows.push({ id, features });
    });
  }
  rows.sort((a, b) => a.id - b.id);
  const ids = new Int32Array(rows.length);
  const factors = new Float32Array(rows.length * rank);
  rows.forEach((row, r) => {
    if (r > 0 && rows[r - 1]!.id === row.id) throw new CollabError('BAD_FILE', `id ${row.id} appears twice`, { file: folder, field: 'id' });
    ids[r] = row.id;
    for (let f = 0; f < rank; f++) {
      const v = Number(row.features[f]);
      if (!Number.isFinite(v)) throw new CollabError('BAD_FILE', `id ${row.id} has a non-finite feature ${f}`, { file: folder, field: 'features' });
      factors[r * rank + f] = v;
    }
  });
  return { ids, factors };
}

/** Reads a Spark ALSModel directory, refusing missing parts, partial saves and wrong shapes with the part named. */
export async function readSparkAls(dir: string): Promise<SparkAlsModel> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CollabError('NOT_FOUND', 'no such folder; give the directory ALSModel.save wrote', { file: dir });
  const { metadata, rank } = readMetadata(dir);
  const params = (metadata.paramMap ?? {}) as Record<string, unknown>;
  const users = await readFactorFolder(dir, 'userFactors', rank);
  const items = await readFactorFolder(dir, 'itemFactors', rank);
  return {
    rank,
    users,
    items,
    metadata,
    ...(typeof params.userCol === 'string' ? { userCol: params.userCol } : {}),
    ...(typeof params.itemCol === 'string' ? { itemCol: params.itemCol } : {}),
  };
}

/** The Spark SQL schema of a factor table, as Spark stores it in the Parquet footer. */
const SPARK_ROW_METADATA = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'id', type: 'integer', nullable: false, metadata: {} },
    { name: 'features', type: { type: 'array', elementType: 'float', containsNull: false }, nullable: true, metadata: {} },
  ],
});

/** One snappy Parquet file of (id: int, features: array<float>) with Spark's schema. */
function factorParquet(table: SparkFactorTable, rank: number): ArrayBuffer {
  const features: number[][] = new Array(table.ids.length);
  for (let r = 0; r < table.ids.length; r++) features[r] = Array.from(table.factors.subarray(r * rank, (r + 1) * rank));
  return parquetWriteBuffer({
    columnData: [
      { name: 'id', data: table.ids },
      { name: 'features', data: features },
    ],
    // Spark's standard three-level list: optional group features (LIST) { repeated group list { required float element } }
    schema: [
      { name: 'spark_schema', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'features', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    ],
    codec: 'SNAPPY',
    kvMetadata: [
      { key: 'org.apache.spark.version', value: SPARK_VERSION },
      { key: 'org.apache.spark.sql.parquet.row.metadata', value: SPARK_ROW_METADATA },
    ],
  });
}

/** The metadata line Spark 3.x's ALSModel.save writes. */
export function sparkAlsMetadata(model: SparkAlsModel, now = Date.now()): Record<string, unknown> {
  return {
    class: SPARK_ALS_CLASS,
    timestamp: now,
    sparkVersion: SPARK_VERSION,
    // Spark's ALSModel keeps the uid of the ALS estimator that fitted it: "als_" and 12 hex digits
    uid: `als_${randomUUID().slice(-12)}`,
    paramMap: { userCol: model.userCol ?? 'userId', itemCol: model.itemCol ?? 'movieId', predictionCol: 'prediction', coldStartStrategy: 'nan', blockSize: 4096 },
    defaultParamMap: { userCol: 'user', itemCol: 'item', predictionCol: 'prediction', coldStartStrategy: 'nan', blockSize: 4096 },
    rank: model.rank,
  };
}

/**
 * Writes an ALSModel directory that Spark's `ALSModel.load` reads: everything goes into a temp folder
 * beside `dir` that is renamed to `dir` at the end, so a failure leaves nothing under `dir`. Refuses an
 * existing `dir` (as Spark's save does without overwrite).
 */
export function writeSparkAls(dir: string, model: SparkAlsModel): void {
  if (existsSync(dir)) throw new CollabError('INVALID_OPTION', 'already exists; remove it or pick another folder (nothing was written)', { file: dir });
  const tmp = join(dirname(dir), `.${basename(dir)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(join(tmp, 'metadata'), { recursive: true });
    writeFileSync(join(tmp, 'metadata', 'part-00000'), JSON.stringify(sparkAlsMetadata(model)) + '\n');
    writeFileSync(join(tmp, 'metadata', '_SUCCESS'), '');
    for (const [sub, table] of [['userFactors', model.users], ['itemFactors', model.items]] as const) {
      mkdirSync(join(tmp, sub));
      // Spark names a task's output part-<task>-<job uuid>-c<file>.<codec>.parquet
      writeFileSync(join(tmp, sub, `part-00000-${randomUUID()}-c000.snappy.parquet`), new Uint8Array(factorParquet(table, model.rank)));
      writeFileSync(join(tmp, sub, '_SUCCESS'), '');
    }
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Spark's integer id of a collab raw id; Spark's ALS needs ids that fit an int. */
function sparkId(id: RawId, what: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < -(2 ** 31) || id >= 2 ** 31) {
    throw new CollabError('BAD_MODEL', `${what} id ${JSON.stringify(id)} is not a 32-bit integer; Spark's ALS only takes integer ids`, { field: 'model' });
  }
  return id;
}

/**
 * The ALSModel of a collab model whose prediction is a dot product of factor tables: `dot` as it is, `mf`
 * with its biases as two extra factors (Spark does not clip to the rating range as collab does). Other
 * kinds are refused: Spark would predict something else.
 */
export function sparkAlsFromTrainedModel(trained: TrainedModel): SparkAlsModel {
  const f = trained.model.dotFactors?.();
  if (f === undefined) {
    throw new CollabError('BAD_MODEL', `a ${trained.model.kind} model does not predict a dot product p·q, so Spark's ALSModel would predict something else; export a dot or mf model (collab train --model mf)`, { field: 'model' });
  }
  const k = f.nFactors;
  const users = trained.train.userIds;
  const items = trained.train.itemIds;
  return {
    rank: k,
    users: { ids: Int32Array.from({ length: users.size }, (_, u) => sparkId(users.idOf(u), 'user')), factors: f.users.slice(0, users.size * k) },
    items: { ids: Int32Array.from({ length: items.size }, (_, i) => sparkId(items.idOf(i), 'movie')), factors: f.items.slice(0, items.size * k) },
  };
}

/** Where an imported model's movie titles and rating history come from. */
export interface SparkCatalogue {
  /** Ratings with raw ids (a dataset's, or the service database's); those of the model's users say what they rated. */
  ratings: Ratings;
  /** Titles, genres and years by raw movie id. */
  items: ReadonlyMap<RawId, ItemMeta>;
  /** Named in errors ("ml-latest-small", "the database ..."). */
  name: string;
}

/**
 * A collab `dot` model from an ALSModel: the same p_u · q_i, with Spark's ids as raw ids, titles and
 * genres from the catalogue, and the catalogue's ratings of the model's users and movies kept as its
 * training ratings (so recommendations leave out what a user rated and explain themselves). Every
 * movie of the model must be in the catalogue.
 */
export function trainedModelFromSparkAls(als: SparkAlsModel, catalogue: SparkCatalogue): TrainedModel {
  const userIds = new IdMap();
  const itemIds = new IdMap();
  for (const id of als.users.ids) userIds.add(id);
  const items = new Map<RawId, ItemMeta>();
  for (const id of als.items.ids) {
    // a bare ratings file has no titles: a rated movie is still known, as "Movie <id>"
    const meta = catalogue.items.get(id) ?? (catalogue.ratings.itemIds.has(id) ? { title: `Movie ${id}`, genres: [] } : undefined);
    if (meta === undefined) throw new CollabError('NOT_FOUND', `movie ${id} of the Spark model is not in ${catalogue.name}'s movies; import with the dataset (--data) or database (--db) the model was trained on`, { field: 'itemFactors' });
    itemIds.add(id);
    items.set(id, meta);
  }
  const model = createModel('dot', userIds.size, itemIds.size, { nFactors: als.rank });
  const f = model.dotFactors!();
  f.users.set(als.users.factors);
  f.items.set(als.items.factors);
  const src = catalogue.ratings;
  const users: number[] = [];
  const itemsCol: number[] = [];
  const values: number[] = [];
  for (let t = 0; t < src.ratings.length; t++) {
    const u = userIds.indexOf(src.userIds.idOf(src.users[t]!));
    const i = itemIds.indexOf(src.itemIds.idOf(src.items[t]!));
    if (u < 0 || i < 0) continue;
    users.push(u);
    itemsCol.push(i);
    values.push(src.ratings[t]!);
  }
  const train: Ratings = { users: Int32Array.from(users), items: Int32Array.from(itemsCol), ratings: Float32Array.from(values), userIds, itemIds };
  return { model, train, items, history: { epochs: [] } };
}
