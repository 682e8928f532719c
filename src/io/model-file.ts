import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { describeFsError } from '../core/fs-errors.js';
import type { RawId } from '../data/id-map.js';
import type { DatasetIdentity } from '../data/identity.js';
import { openAtomicWriter, removeStaleTemps } from '../core/atomic.js';

/**
 * collab's model file: a JSON manifest (`model.json`) that describes the model, its vocabulary and
 * history, plus its weights beside it (`model.<sha>.weights.bin`, named by the first 16 hex digits of
 * their sha256) as raw little-endian Float32 tables laid end to end. Plain data only: nothing in
 * either file is ever evaluated.
 *
 * A save is all-or-nothing for the pair: the weights go under a new name first, the manifest is
 * renamed over the old one last, and only then are the old weights removed. A crash at any step
 * leaves either the old manifest with its old weights or the new manifest with its new weights.
 * Version 2 manifests carry `manifestSha256`, a sha256 over their own meaning (see {@link manifestDigest}),
 * so an edited id, range or kind is refused rather than served.
 */

/** Value of the manifest's `format` field. */
export const MODEL_FORMAT = 'collab-model';
/** The manifest version this code writes and the newest it reads (1: no manifest checksum, weights named model.weights.bin). */
export const MODEL_FORMAT_VERSION = 2;

/** Any value JSON can hold (finite numbers only). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a model needs to know about a movie after training (titles for output, genres for filters). */
export interface ModelItemInfo {
  title: string;
  genres: string[];
  year?: number;
}

/** One epoch of training, as the learner records it. */
export interface EpochRecord {
  /** Epoch number as the learner counts it. */
  epoch: number;
  /** Mean training loss over the epoch. */
  trainLoss: number;
  validMse?: number;
  validRmse?: number;
  /** Training seconds so far. */
  elapsed?: number;
}

/** The training curves saved with a model, so they can be drawn later. */
export interface TrainingHistory {
  epochs: EpochRecord[];
  /** Training loss of every minibatch, in order. */
  batchLosses?: number[];
}

/** Identifies the training data, so a model can tell whether it was trained on a given file. */
export interface DataFingerprint {
  /** Number of ratings. */
  ratings: number;
  /** Distinct users and items among the ratings. */
  users: number;
  items: number;
  /** sha256 (hex) of the count and the little-endian bytes of the user, item and rating columns. */
  sha256: string;
}

/** Where one table lies in the weights file. */
export interface WeightTableInfo {
  name: string;
  rows: number;
  cols: number;
  /** Byte offset of the table's first value in the weights file. */
  offset: number;
  /** Size of the table in bytes (rows × cols × 4). */
  length: number;
}

/** The weights file as the manifest describes it. */
export interface WeightsInfo {
  /** File name, in the manifest's folder. */
  file: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** sha256 (hex) of the whole file. */
  sha256: string;
  dtype: 'float32';
  byteOrder: 'little-endian';
  /** Tables in file order, laid end to end from offset 0. */
  tables: WeightTableInfo[];
}

/** The JSON manifest of a saved model. */
export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  version: number;
  /** Model kind ('dot', 'dotbias', 'nn', ...); the model classes decide what it means. */
  kind: string;
  /** Hyperparameters needed to rebuild the model (factors, layers, ...). */
  config: { [key: string]: JsonValue };
  /** Output range [lo, hi] of models with a sigmoid output. */
  yRange?: [number, number];
  /** Raw user id of each dense user index. */
  userIds: RawId[];
  /** Raw item id of each dense item index. */
  itemIds: RawId[];
  /** Movie metadata by raw item id (JSON keys are strings: item 1 is under "1"). */
  items?: { [itemId: string]: ModelItemInfo };
  history: TrainingHistory;
  dataFingerprint: DataFingerprint;
  /** ISO 8601 time the model was saved. */
  createdAt: string;
  /** collab version that saved it. */
  collabVersion: string;
  weights: WeightsInfo;
  /** Which dataset the model was trained on (absent in files written before it was recorded). */
  dataset?: DatasetIdentity;
  /** sha256 (hex) of {@link manifestDigest} over every other field; version 2 and later. */
  manifestSha256?: string;
}

export type { DatasetIdentity };

/** What the caller gives `writeModelFile`; the format fields and the weights description are filled in. */
export type ModelManifestInput = Omit<ModelManifest, 'format' | 'version' | 'weights' | 'createdAt' | 'collabVersion' | 'manifestSha256'> & {
  /** Default: now. */
  createdAt?: string;
  /** Default: the version in collab's package.json. */
  collabVersion?: string;
};

/** One weight table to save: a row-major rows × cols Float32Array. */
export interface WeightTable {
  name: string;
  rows: number;
  cols: number;
  data: Float32Array;
}

/** A model file read back: its manifest and each table by name. */
export interface LoadedModelFile {
  manifest: ModelManifest;
  tables: Map<string, Float32Array>;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The weights file a version 1 manifest names beside it: model.json → model.weights.bin. */
export function weightsPathFor(manifestPath: string): string {
  return join(dirname(manifestPath), `${manifestBase(manifestPath)}.weights.bin`);
}

/** The manifest's name without its .json: the stem every file of the model starts with. */
function manifestBase(manifestPath: string): string {
  const name = basename(manifestPath);
  return name.toLowerCase().endsWith('.json') ? name.slice(0, -5) : name;
}

/** The weights file name of a version 2 save: model.json with weights sha256 abcd… → model.abcd….weights.bin. */
export function weightsFileName(manifestPath: string, weightsSha256: string): string {
  return `${manifestBase(manifestPath)}.${weightsSha256.slice(0, 16)}.weights.bin`;
}

/** Whether `file` is a weights file of the manifest stem `base` (either naming: version 1 or 2). */
function isWeightsOf(file: string, base: string): boolean {
  if (!file.startsWith(`${base}.`) || !file.endsWith('.weights.bin')) return false;
  const middle = file.slice(base.length + 1, -'.weights.bin'.length);
  return middle === '' ? file === `${base}.weights.bin` : /^[0-9a-f]{16}$/.test(middle);
}

// A crash-test hook: with COLLAB_TEST_SAVE_KILL_STEP=N the saving process SIGKILLs itself after the
// Nth file-system step of a save, so tests can check what every interrupted save leaves behind.
let saveStep = 0;
function crashPoint(): void {
  const at = process.env.COLLAB_TEST_SAVE_KILL_STEP;
  if (at === undefined) return;
  saveStep++;
  if (saveStep === Number(at)) process.kill(process.pid, 'SIGKILL');
}

/**
 * Saves a model, all-or-nothing for the manifest and its weights together: the weights are written
 * under a name made from their sha256, then the manifest (which names them) is renamed over the old
 * one, and only then are the previous weights removed. Everything is validated and serialized before
 * the first byte is written, so bad input leaves earlier files as they were; temp files left by a
 * killed save are removed.
 */
export function writeModelFile(path: string, input: ModelManifestInput, tables: readonly WeightTable[]): ModelManifest {
  checkTables(tables);
  const chunks = tables.map((t) => littleEndianBytes(t.data));
  const hash = createHash('sha256');
  const infos: WeightTableInfo[] = [];
  let offset = 0;
  for (let t = 0; t < tables.length; t++) {
    const { name, rows, cols } = tables[t]!;
    const length = chunks[t]!.byteLength;
    infos.push({ name, rows, cols, offset, length });
    hash.update(chunks[t]!);
    offset += length;
  }
  const weightsSha = hash.digest('hex');
  const weightsFile = weightsFileName(path, weightsSha);
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    kind: input.kind,
    config: input.config,
    ...(input.yRange ? { yRange: input.yRange } : {}),
    userIds: input.userIds,
    itemIds: input.itemIds,
    ...(input.items ? { items: input.items } : {}),
    history: input.history,
    dataFingerprint: input.dataFingerprint,
    ...(input.dataset ? { dataset: input.dataset } : {}),
    createdAt: input.createdAt ?? new Date().toISOString(),
    collabVersion: input.collabVersion ?? collabVersion(),
    weights: {
      file: weightsFile,
      bytes: offset,
      sha256: weightsSha,
      dtype: 'float32',
      byteOrder: 'little-endian',
      tables: infos,
    },
  };
  checkJson(manifest, 'manifest');
  manifest.manifestSha256 = manifestDigest(manifest);
  // Validate what we wrote with the reader's own rules, so a file we write is always one we can read.
  checkManifest(manifest, path, true);
  const text = `${stringifyManifest(manifest, '')}\n`;

  const dir = dirname(path);
  checkSaveTarget(path);
  const base = manifestBase(path);
  saveStep = 0;
  try {
    removeStaleTemps(dir, (name) => name === basename(path) || isWeightsOf(name, base));
    crashPoint();
    writeStepwise(join(dir, weightsFile), chunks);
    writeStepwise(path, [text]);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CollabError('BAD_FILE', `cannot save the model: ${reason}; check that ${dir} is writable and has free space`, { file: path }, { cause: err });
  }
  // The new manifest is in place: weights it does not name can go (a failure here costs disk space
  // only). It is read again because a concurrent save may have replaced it since: its weights stay.
  const keep = currentWeightsFile(path) ?? weightsFile;
  for (const name of safeReaddir(dir)) {
    if (name !== keep && isWeightsOf(name, base)) {
      rmSync(join(dir, name), { force: true });
      crashPoint();
    }
  }
  return manifest;
}

/**
 * Checks that a model can be saved at `path` (its folder exists, the path is not a folder, the folder
 * is writable), so a command can refuse a bad --out before it spends minutes training.
 */
export function checkSaveTarget(path: string): void {
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new CollabError('NOT_FOUND', `cannot save the model: folder ${dir} does not exist; create it first or choose another --out`, { file: path });
  }
  let target: ReturnType<typeof statSync> | undefined;
  try {
    target = statSync(path);
  } catch {
    target = undefined;
  }
  if (target?.isDirectory()) {
    throw new CollabError('BAD_FILE', 'cannot save the model: this is a folder; give a file name such as model.json inside it', { file: path });
  }
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    throw new CollabError('BAD_FILE', `cannot save the model: folder ${dir} is not writable; choose another --out`, { file: path });
  }
}

/** An atomic write with a crash point after the temp file is written and another after the rename. */
function writeStepwise(path: string, chunks: readonly (string | Uint8Array)[]): void {
  const out = openAtomicWriter(path);
  try {
    for (const chunk of chunks) out.write(chunk);
    crashPoint();
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  crashPoint();
}

/** The weights file the manifest at `path` names now, or undefined when it cannot be read. */
function currentWeightsFile(path: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as { weights?: { file?: unknown } };
    return typeof m.weights?.file === 'string' ? m.weights.file : undefined;
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The sha256 (hex) of a manifest's meaning: a canonical JSON (keys sorted at every level) of every
 * field this version reads, leaving out `manifestSha256` itself and keys it does not know (notes a
 * person may add carry no meaning to collab).
 */
export function manifestDigest(manifest: ModelManifest): string {
  const m = manifest as unknown as Obj;
  const covered: Obj = {};
  for (const key of DIGEST_KEYS) if (m[key] !== undefined) covered[key] = m[key];
  const w = m.weights as Obj | undefined;
  if (w && typeof w === 'object') {
    const cw: Obj = {};
    for (const key of DIGEST_WEIGHT_KEYS) if (w[key] !== undefined) cw[key] = w[key];
    covered.weights = cw;
  }
  return createHash('sha256').update('collab-manifest-v2\n').update(canonicalJson(covered)).digest('hex');
}

const DIGEST_KEYS = ['format', 'version', 'kind', 'config', 'yRange', 'userIds', 'itemIds', 'items', 'history', 'dataFingerprint', 'dataset', 'createdAt', 'collabVersion'] as const;
const DIGEST_WEIGHT_KEYS = ['file', 'bytes', 'sha256', 'dtype', 'byteOrder', 'tables'] as const;

/** JSON with object keys sorted at every level, so equal values always give equal text. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    // ids and batch losses (millions of numbers for a big dataset) serialize in one native call
    if (value.every((v) => v === null || typeof v !== 'object')) return JSON.stringify(value);
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  const keys = Object.keys(value as Obj)
    .filter((k) => (value as Obj)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Obj)[k])}`).join(',')}}`;
}


/**
 * Reads and checks a model's manifest alone (fields, version, checksum), without its weights: what a
 * command needs to know about a model (its kind, dataset) before loading it.
 */
export function readModelManifest(path: string): ModelManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CollabError('NOT_FOUND', 'model file not found; check the path (collab train --out writes it)', { file: path });
    throw new CollabError('BAD_FILE', `cannot read the model file: ${describeFsError(err)}`, { file: path }, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CollabError('BAD_MODEL', `not valid JSON (${(err as Error).message}); the model manifest is damaged — re-save or re-copy the model`, { file: path });
  }
  return checkManifest(parsed, path);
}

/**
 * Loads a model file: checks the manifest (format, version, required fields), then the weights file
 * (presence, size, sha256, table layout), and returns the manifest with each table as a Float32Array.
 */
export function readModelFile(path: string): LoadedModelFile {
  const manifest = readModelManifest(path);
  const w = manifest.weights;
  const weightsPath = join(dirname(path), w.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(weightsPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CollabError('BAD_MODEL', `weights file is missing (the manifest ${basename(path)} needs it); copy it beside the manifest or re-train the model`, { file: weightsPath });
    }
    throw new CollabError('BAD_FILE', `cannot read the weights file: ${describeFsError(err)}`, { file: weightsPath }, { cause: err });
  }
  if (bytes.length < w.bytes) {
    throw new CollabError('BAD_MODEL', `weights file is truncated: expected ${w.bytes} bytes, found ${bytes.length}; re-train or re-copy the model`, { file: weightsPath });
  }
  if (bytes.length > w.bytes) {
    throw new CollabError('BAD_MODEL', `weights file is longer than its manifest says: expected ${w.bytes} bytes, found ${bytes.length}; re-train or re-copy the model`, { file: weightsPath });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== w.sha256) {
    throw new CollabError(
      'BAD_MODEL',
      `weights file was altered or damaged: its sha256 is ${sha256}, the manifest expects ${w.sha256}; re-train or re-copy the model (manifest and weights together)`,
      { file: weightsPath },
    );
  }
  const tables = new Map<string, Float32Array>();
  for (const t of w.tables) {
    // Copy into a fresh, 4-byte-aligned buffer: the file's Buffer may start at any offset of a pool.
    const data = new Float32Array(t.rows * t.cols);
    new Uint8Array(data.buffer).set(bytes.subarray(t.offset, t.offset + t.length));
    if (!LITTLE_ENDIAN) swapBytes32(new Uint8Array(data.buffer));
    tables.set(t.name, data);
  }
  return { manifest, tables };
}

/**
 * Fingerprint of training columns: sha256 over a header with the count, then the little-endian bytes
 * of the user indices, item indices and ratings. The same ratings in the same order, with the same
 * dense ids, give the same hash.
 */
export function fingerprintRatings(users: Int32Array, items: Int32Array, ratings: Float32Array): DataFingerprint {
  const n = ratings.length;
  if (users.length !== n || items.length !== n) {
    throw new CollabError('INVALID_OPTION', `fingerprintRatings: columns differ in length (users ${users.length}, items ${items.length}, ratings ${n}); pass one entry per rating`, { field: 'ratings' });
  }
  const hash = createHash('sha256');
  hash.update(`collab-ratings-v1 n=${n}\n`);
  hash.update(littleEndianBytes(users));
  hash.update(littleEndianBytes(items));
  hash.update(littleEndianBytes(ratings));
  return { ratings: n, users: distinct(users, 'users'), items: distinct(items, 'items'), sha256: hash.digest('hex') };
}

/** Number of distinct dense indices in a column (indices are small non-negative integers). */
function distinct(col: Int32Array, what: string): number {
  let max = -1;
  for (let r = 0; r < col.length; r++) {
    const v = col[r]!;
    if (v < 0) throw new CollabError('INVALID_OPTION', `fingerprintRatings: ${what}[${r}] is ${v}; dense indices are >= 0`, { field: what });
    if (v > max) max = v;
  }
  const seen = new Uint8Array(max + 1);
  let count = 0;
  for (let r = 0; r < col.length; r++) {
    const v = col[r]!;
    if (seen[v] === 0) {
      seen[v] = 1;
      count++;
    }
  }
  return count;
}

/** The bytes of a 32-bit typed array in little-endian order (a view on LE hosts, a swapped copy on BE). */
function littleEndianBytes(a: Float32Array | Int32Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return view;
  const copy = view.slice();
  swapBytes32(copy);
  return copy;
}

/** Reverses the byte order of every 4-byte word in place. */
function swapBytes32(b: Uint8Array): void {
  for (let o = 0; o + 3 < b.length; o += 4) {
    const b0 = b[o]!;
    const b1 = b[o + 1]!;
    b[o] = b[o + 3]!;
    b[o + 1] = b[o + 2]!;
    b[o + 2] = b1;
    b[o + 3] = b0;
  }
}

function checkTables(tables: readonly WeightTable[]): void {
  const names = new Set<string>();
  for (const t of tables) {
    const field = `tables.${t.name}`;
    if (typeof t.name !== 'string' || t.name === '') {
      throw new CollabError('INVALID_OPTION', 'writeModelFile: every weight table needs a non-empty name', { field: 'tables' });
    }
    if (names.has(t.name)) throw new CollabError('INVALID_OPTION', `writeModelFile: two weight tables are named "${t.name}"; names must be unique`, { field });
    names.add(t.name);
    if (!Number.isInteger(t.rows) || t.rows < 0 || !Number.isInteger(t.cols) || t.cols < 0) {
      throw new CollabError('INVALID_OPTION', `writeModelFile: table "${t.name}" has shape ${t.rows}×${t.cols}; rows and cols must be integers >= 0`, { field });
    }
    if (!(t.data instanceof Float32Array) || t.data.length !== t.rows * t.cols) {
      const got = t.data instanceof Float32Array ? `${t.data.length} values` : 'no Float32Array';
      throw new CollabError('INVALID_OPTION', `writeModelFile: table "${t.name}" is ${t.rows}×${t.cols} = ${t.rows * t.cols} values but its data has ${got}`, { field });
    }
  }
}

/** Refuses what JSON cannot carry faithfully: NaN/Infinity, undefined in arrays, functions, class instances. */
function checkJson(value: unknown, key: string): void {
  const bad = (what: string): never => {
    throw new CollabError('INVALID_OPTION', `writeModelFile: ${key} is ${what}; a model manifest holds plain JSON values only`, { field: key });
  };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) bad(String(value));
    return;
  }
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) checkJson(value[k], `${key}[${k}]`);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) bad(`a ${(value as object).constructor?.name ?? 'non-plain'} object`);
    for (const [k, v] of Object.entries(value as object)) {
      if (v !== undefined) checkJson(v, `${key}.${k}`);
    }
    return;
  }
  bad(typeof value);
}

type Obj = Record<string, unknown>;

/**
 * Field checks that name the field at fault. Reading, a bad field means a damaged file (BAD_MODEL);
 * writing, it means the caller passed a bad manifest (INVALID_OPTION).
 */
class ManifestChecker {
  constructor(
    private readonly file: string,
    private readonly writing: boolean,
  ) {}

  fail(key: string, problem: string): never {
    if (this.writing) throw new CollabError('INVALID_OPTION', `writeModelFile: manifest field "${key}" ${problem}`, { field: key });
    throw new CollabError('BAD_MODEL', `manifest field "${key}" ${problem}; the file was edited or damaged — re-save or re-train the model`, { file: this.file, field: key });
  }

  need(obj: Obj, key: string, prefix: string): unknown {
    const full = prefix ? `${prefix}.${key}` : key;
    if (!Object.prototype.hasOwnProperty.call(obj, key) || obj[key] === undefined) {
      if (this.writing) throw new CollabError('INVALID_OPTION', `writeModelFile: the manifest has no "${full}"; pass it`, { field: full });
      throw new CollabError('BAD_MODEL', `manifest has no "${full}"; the file is incomplete or was not written by collab — re-save or re-train the model`, { file: this.file, field: full });
    }
    return obj[key];
  }

  object(obj: Obj, key: string, prefix = ''): Obj {
    const v = this.need(obj, key, prefix);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(join2(prefix, key), `must be an object, got ${describe(v)}`);
    return v as Obj;
  }

  array(obj: Obj, key: string, prefix = ''): unknown[] {
    const v = this.need(obj, key, prefix);
    if (!Array.isArray(v)) this.fail(join2(prefix, key), `must be an array, got ${describe(v)}`);
    return v as unknown[];
  }

  string(obj: Obj, key: string, prefix = ''): string {
    const v = this.need(obj, key, prefix);
    if (typeof v !== 'string') this.fail(join2(prefix, key), `must be a string, got ${describe(v)}`);
    return v as string;
  }

  number(obj: Obj, key: string, prefix = ''): number {
    const v = this.need(obj, key, prefix);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(join2(prefix, key), `must be a number, got ${describe(v)}`);
    return v as number;
  }

  count(obj: Obj, key: string, prefix = ''): number {
    const v = this.number(obj, key, prefix);
    if (!Number.isInteger(v) || v < 0) this.fail(join2(prefix, key), `must be an integer >= 0, got ${v}`);
    return v;
  }
}

function join2(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Checks a parsed manifest field by field; returns it typed. Unknown extra keys are allowed. */
function checkManifest(parsed: unknown, file: string, writing = false): ModelManifest {
  const c = new ManifestChecker(file, writing);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CollabError('BAD_MODEL', `not a collab model manifest (the JSON is ${describe(parsed)}, not an object); pass the model's .json file`, { file });
  }
  const m = parsed as Obj;
  const format = c.need(m, 'format', '');
  if (format !== MODEL_FORMAT) {
    throw new CollabError('BAD_MODEL', `not a collab model file (format is ${describe(format)}, expected "${MODEL_FORMAT}"); pass a model saved by collab train --out`, { file, field: 'format' });
  }
  const version = c.need(m, 'version', '');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) c.fail('version', `must be an integer >= 1, got ${describe(version)}`);
  if ((version as number) > MODEL_FORMAT_VERSION) {
    throw new CollabError(
      'BAD_MODEL',
      `model format version ${version} is newer than this collab (${collabVersion()}) can read (up to version ${MODEL_FORMAT_VERSION}); upgrade collab to load it, or re-train the model with this version`,
      { file, field: 'version' },
    );
  }
  c.string(m, 'kind');
  c.object(m, 'config');
  if (m.yRange !== undefined) {
    const y = m.yRange;
    if (!Array.isArray(y) || y.length !== 2 || !y.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(y[0] < y[1])) {
      c.fail('yRange', `must be [lo, hi] with lo < hi, got ${JSON.stringify(y)}`);
    }
  }
  for (const key of ['userIds', 'itemIds']) {
    const ids = c.array(m, key);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (typeof id !== 'string' && (typeof id !== 'number' || !Number.isFinite(id))) c.fail(`${key}[${k}]`, `must be a number or a string, got ${describe(id)}`);
    }
  }
  if (m.items !== undefined) {
    const items = c.object(m, 'items');
    for (const [id, info] of Object.entries(items)) {
      const key = `items.${id}`;
      if (typeof info !== 'object' || info === null || Array.isArray(info)) c.fail(key, `must be an object, got ${describe(info)}`);
      const it = info as Obj;
      c.string(it, 'title', key);
      const genres = c.array(it, 'genres', key);
      if (!genres.every((g) => typeof g === 'string')) c.fail(`${key}.genres`, 'must be an array of strings');
      if (it.year !== undefined) c.number(it, 'year', key);
    }
  }
  const history = c.object(m, 'history');
  const epochs = c.array(history, 'epochs', 'history');
  epochs.forEach((e, k) => {
    const key = `history.epochs[${k}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) c.fail(key, `must be an object, got ${describe(e)}`);
    c.number(e as Obj, 'epoch', key);
    c.number(e as Obj, 'trainLoss', key);
  });
  if (history.batchLosses !== undefined) {
    const losses = c.array(history, 'batchLosses', 'history');
    if (!losses.every((v) => typeof v === 'number')) c.fail('history.batchLosses', 'must be an array of numbers');
  }
  const fp = c.object(m, 'dataFingerprint');
  c.count(fp, 'ratings', 'dataFingerprint');
  c.count(fp, 'users', 'dataFingerprint');
  c.count(fp, 'items', 'dataFingerprint');
  c.string(fp, 'sha256', 'dataFingerprint');
  c.string(m, 'createdAt');
  c.string(m, 'collabVersion');

  const w = c.object(m, 'weights');
  const wfile = c.string(w, 'file', 'weights');
  if (wfile === '' || wfile !== basename(wfile) || wfile.includes('/') || wfile.includes('\\') || wfile === '.' || wfile === '..') {
    c.fail('weights.file', `must be a plain file name beside the manifest, got ${describe(wfile)}`);
  }
  const bytes = c.count(w, 'bytes', 'weights');
  const sha = c.string(w, 'sha256', 'weights');
  if (!/^[0-9a-f]{64}$/.test(sha)) c.fail('weights.sha256', `must be 64 lower-case hex digits, got ${describe(sha)}`);
  if (c.string(w, 'dtype', 'weights') !== 'float32') c.fail('weights.dtype', `must be "float32", got ${describe(w.dtype)}`);
  if (c.string(w, 'byteOrder', 'weights') !== 'little-endian') c.fail('weights.byteOrder', `must be "little-endian", got ${describe(w.byteOrder)}`);
  const tables = c.array(w, 'tables', 'weights');
  const names = new Set<string>();
  let offset = 0;
  tables.forEach((t, k) => {
    const key = `weights.tables[${k}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) c.fail(key, `must be an object, got ${describe(t)}`);
    const tab = t as Obj;
    const name = c.string(tab, 'name', key);
    if (names.has(name)) c.fail(`${key}.name`, `repeats the table name "${name}"`);
    names.add(name);
    const rows = c.count(tab, 'rows', key);
    const cols = c.count(tab, 'cols', key);
    const off = c.count(tab, 'offset', key);
    const length = c.count(tab, 'length', key);
    if (length !== rows * cols * 4) c.fail(`${key}.length`, `is ${length} bytes but table "${name}" is ${rows}×${cols} float32 = ${rows * cols * 4} bytes`);
    if (off !== offset) c.fail(`${key}.offset`, `is ${off} but table "${name}" must start at byte ${offset}, right after the previous table`);
    offset += length;
  });
  if (offset !== bytes) c.fail('weights.bytes', `is ${bytes} but the tables add up to ${offset} bytes`);
  if (m.dataset !== undefined) {
    const d = c.object(m, 'dataset');
    c.string(d, 'name', 'dataset');
    c.count(d, 'items', 'dataset');
    c.string(d, 'catalogueSha256', 'dataset');
  }
  // Version 1 files predate the checksum; from version 2 on a manifest must carry one that matches.
  if ((version as number) >= 2) {
    const sum = c.string(m, 'manifestSha256');
    if (!writing && sum !== manifestDigest(m as unknown as ModelManifest)) {
      throw new CollabError(
        'BAD_MODEL',
        'manifest was edited or damaged: its contents (ids, kind, config, catalogue, ...) no longer match its manifestSha256; re-save or re-train the model rather than editing it',
        { file, field: 'manifestSha256' },
      );
    }
  }
  return m as unknown as ModelManifest;
}

/**
 * Pretty JSON that stays short: objects one key per line, but arrays of plain values and small
 * objects on one line, so 60,000 item ids take one line rather than 60,000.
 */
function stringifyManifest(value: unknown, indent: string): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== 'object') return flat;
  if (Array.isArray(value) ? value.every((v) => v === null || typeof v !== 'object') : false) return flat;
  if (flat.length <= 100) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + stringifyManifest(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as object).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${stringifyManifest(v, inner)}`).join(',\n')}\n${indent}}`;
}

let version: string | undefined;

/** collab's version from its package.json (two folders up from this file in both src/ and dist/). */
function collabVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
