import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { IdMap, parseRawId } from './id-map.js';
import { KNOWN_DATASETS, locateDataset } from './locate.js';
import type { Dataset } from './ratings.js';

/** Options of `loadDataset`. */
export interface LoadOptions {
  /** Folder searched first for datasets by name; default none ($COLLAB_DATA_DIR, then the cache). */
  dataDir?: string;
  /** Count bad rows instead of failing on the first; default false. */
  skipBadRows?: boolean;
}

const RATINGS_FILES = ['ratings.csv', 'u.data', 'ratings.dat'];

/**
 * TEMPORARY INTERFACE, replaced by the data helper's streaming reader (read-delimited.ts/load.ts):
 * reads a dataset by name, folder or file as a plain `user,item,rating[,timestamp]` file split on
 * `::`, tab, comma or spaces, header skipped when its first field is not a number. It reads the whole
 * file into memory and reads no metadata; it exists only so `collab split` compiles and is tested.
 */
export function loadDataset(spec: string, options: LoadOptions = {}): Dataset {
  const file = resolveRatingsFile(spec, options.dataDir);
  const text = readFileSync(file, 'latin1');
  const lines = text.split('\n');
  const first = lines[0]?.replace(/\r$/, '') ?? '';
  const sep = first.includes('::') ? '::' : first.includes('\t') ? '\t' : first.includes(',') ? ',' : /\s+/;
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  const times: number[] = [];
  let hasTime = true;
  let badRows = 0;
  const badRowExamples: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!.replace(/\r$/, '').trim();
    if (line === '') continue;
    const f = line.split(sep);
    if (k === 0 && !/^-?\d/.test(f[0] ?? '')) continue;
    const problem =
      f.length < 3 ? `expected at least 3 fields (user, item, rating), found ${f.length}` :
      f[0] === '' || f[1] === '' ? 'empty user or item id' :
      !Number.isFinite(Number(f[2])) || f[2]!.trim() === '' ? `rating "${f[2]}" is not a finite number` : undefined;
    if (problem) {
      if (!options.skipBadRows) throw new CollabError('BAD_ROW', `${problem}; fix the row or pass --skip-bad-rows`, { file, line: k + 1 });
      badRows++;
      if (badRowExamples.length < 5) badRowExamples.push(`${file}:${k + 1}: ${problem}`);
      continue;
    }
    users.push(userIds.add(parseRawId(f[0]!)));
    items.push(itemIds.add(parseRawId(f[1]!)));
    ratings.push(Number(f[2]));
    const t = f.length > 3 ? Number(f[3]) : NaN;
    if (!Number.isFinite(t)) hasTime = false;
    times.push(t);
  }
  if (ratings.length === 0) throw new CollabError('BAD_FILE', 'no ratings found: check the file is a ratings file', { file });
  const r = {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from(ratings),
    userIds,
    itemIds,
  };
  const known = KNOWN_DATASETS[spec];
  return {
    name: known ? known.name : basename(spec),
    source: file,
    ratings: hasTime ? { ...r, timestamps: Float64Array.from(times) } : r,
    items: new Map(),
    users: new Map(),
    report: { badRows, badRowExamples, duplicates: 0 },
  };
}

function resolveRatingsFile(spec: string, dataDir?: string): string {
  const folder = KNOWN_DATASETS[spec] ? locateDataset(spec, dataDir) : undefined;
  if (KNOWN_DATASETS[spec] && !folder) {
    throw new CollabError('NOT_FOUND', `dataset ${spec} is not in --data-dir, $COLLAB_DATA_DIR or the cache: run \`collab data fetch ${spec}\``);
  }
  const path = folder ?? spec;
  if (!existsSync(path)) throw new CollabError('NOT_FOUND', `no such file or dataset: ${spec} (known names: ${Object.keys(KNOWN_DATASETS).join(', ')})`);
  if (!statSync(path).isDirectory()) return path;
  for (const name of RATINGS_FILES) if (existsSync(join(path, name))) return join(path, name);
  throw new CollabError('NOT_FOUND', `folder ${path} holds no ratings file (${RATINGS_FILES.join(', ')})`);
}
