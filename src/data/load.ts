import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { KNOWN_DATASETS, datasetOfPath, datasetSearchDirs, locateDataset, resolveDatasetPath } from './locate.js';
import { detectMovieLensFormat, MOVIELENS_LAYOUTS, readMovieLensFolder, readMovieLensMetadata, type MovieLensOptions } from './movielens.js';
import { readRatingsFile, type ReadOptions, type ReadResult } from './read-delimited.js';
import type { Ratings } from './ratings.js';

/** How to load a dataset by name or path. */
export interface LoadOptions extends MovieLensOptions {
  /** Folder searched first for datasets by name (--data-dir); then $COLLAB_DATA_DIR, then the cache. Default: none. */
  dataDir?: string;
}

/**
 * The folder of a known dataset: the first search folder (--data-dir, $COLLAB_DATA_DIR, cache)
 * whose copy has the ratings file, else the first copy found at all (so an incomplete copy gets a
 * precise error), else undefined.
 */
export function findDatasetFolder(name: string, dataDir?: string): string | undefined {
  const known = KNOWN_DATASETS[name];
  if (!known) return undefined;
  const ratingsFile = MOVIELENS_LAYOUTS[known.format].ratings;
  for (const dir of datasetSearchDirs(dataDir)) {
    const candidate = join(dir, known.folder);
    if (existsSync(join(candidate, ratingsFile))) return candidate;
  }
  return locateDataset(name, dataDir);
}

/**
 * Loads ratings (and the metadata beside them) from a known dataset name (ml-latest-small, ml-100k,
 * ...), a dataset folder, or a ratings file. A file inside a MovieLens folder (u1.base, a split of
 * ratings.csv) also gets that folder's titles, genres and demographics. The result also tells the
 * layout the ratings file was read with.
 */
export function loadDataset(spec: string, options: LoadOptions = {}): ReadResult {
  const { dataDir, ...rest } = options;
  const known = KNOWN_DATASETS[spec];
  const nameOrPath = known ? spec : resolveDatasetPath(spec, dataDir);
  if (known) {
    const dir = findDatasetFolder(nameOrPath, dataDir);
    if (dir) return readMovieLensFolder(dir, { ...rest, name: rest.name ?? known.name });
    if (!existsSync(nameOrPath)) {
      throw new CollabError(
        'NOT_FOUND',
        `dataset ${known.name} is not in ${datasetSearchDirs(dataDir).join(', ')}; run \`collab data fetch ${known.name}\` to download it, ` +
          `or set COLLAB_DATA_DIR (or --data-dir) to a folder holding ${known.folder}/`,
        { field: 'dataset' },
      );
    }
  }
  const under = datasetOfPath(nameOrPath);
  if (!existsSync(nameOrPath) && under) {
    throw new CollabError(
      'NOT_FOUND',
      `no file "${nameOrPath}": looked for ${nameOrPath.slice(nameOrPath.search(/[\\/]/) + 1)} in ${under.folder}/ under ${datasetSearchDirs(dataDir).join(', ')}; ` +
        `run \`collab data fetch ${under.name}\` or set COLLAB_DATA_DIR (or --data-dir) to a folder holding ${under.folder}/`,
      { field: 'dataset' },
    );
  }
  if (!existsSync(nameOrPath)) {
    throw new CollabError(
      'NOT_FOUND',
      `no dataset or file "${nameOrPath}": give a ratings file, a dataset folder, or one of ${Object.keys(KNOWN_DATASETS).join(', ')} ` +
        '(found in --data-dir, COLLAB_DATA_DIR or the cache that `collab data fetch` fills)',
      { field: 'dataset' },
    );
  }
  if (statSync(nameOrPath).isDirectory()) {
    if (detectMovieLensFormat(nameOrPath)) return readMovieLensFolder(nameOrPath, rest);
    for (const f of ['ratings.csv', 'ratings.dat', 'ratings.txt', 'ratings.tsv']) {
      const path = join(nameOrPath, f);
      if (existsSync(path)) return fileDataset(path, { ...rest, name: rest.name ?? basename(nameOrPath) });
    }
    throw new CollabError(
      'BAD_FILE',
      'holds no ratings file (ratings.csv, u.data, ratings.dat, ratings.txt or ratings.tsv); give the path of the ratings file instead',
      { file: nameOrPath },
    );
  }
  return fileDataset(nameOrPath, rest);
}

/** One ratings file, plus its folder's MovieLens metadata when it sits in a MovieLens folder. */
function fileDataset(path: string, options: MovieLensOptions): ReadResult {
  const dataset = readRatingsFile(path, options);
  const format = options.metadata === false ? undefined : detectMovieLensFormat(dirname(path));
  if (format) {
    const meta = readMovieLensMetadata(dirname(path), format, dataset.report, options.skipBadRows === true);
    dataset.items = meta.items;
    dataset.users = meta.users;
  }
  return dataset;
}

/**
 * Reads a predefined split: a training file and, optionally, a validation file whose ids extend the
 * same id maps (ids first seen in validation get indices after the training ones).
 */
export function readSplitFiles(trainPath: string, validPath?: string, options: ReadOptions = {}): { train: Ratings; valid: Ratings | undefined } {
  const train = readRatingsFile(trainPath, options).ratings;
  const valid = validPath ? readRatingsFile(validPath, { ...options, userIds: train.userIds, itemIds: train.itemIds }).ratings : undefined;
  return { train, valid };
}
