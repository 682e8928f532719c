import { existsSync, statSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/** How a MovieLens release lays out its ratings. */
export type MovieLensFormat = 'csv' | 'ml-100k' | 'dat';

/** A GroupLens release collab knows by name. */
export interface KnownDataset {
  /** Name used on the command line (`ml-latest-small`). */
  name: string;
  /** Folder the release's zip unpacks to. */
  folder: string;
  format: MovieLensFormat;
  /** Where `collab data fetch` downloads the zip from. */
  url: string;
  /** Pinned sha256 of the zip (hex); the download is refused when it differs. */
  sha256: string;
  /** Zip size in bytes, for progress and a truncation check. */
  bytes: number;
  /** One line on the licence shown when fetching. */
  licence: string;
}

const GROUPLENS = 'https://files.grouplens.org/datasets/movielens/';
const RESEARCH_ONLY =
  'GroupLens licence: research use only, no commercial use without permission, acknowledge Harper & Konstan (2015), no endorsement implied';

/**
 * The releases collab can fetch and read by name. sha256/bytes of the zips as GroupLens serves them:
 * ml-latest-small, ml-100k, ml-1m, ml-20m, ml-25m from TensorFlow Datasets' url_checksums/movielens.txt,
 * each confirmed by other projects pinning the same value (and ml-20m's size by its Academic Torrents
 * entry); ml-latest's sha256 from several projects that agree (its README is dated 2023-07-20; size not
 * published, 0 = unchecked). ml-10m has no sha256 found yet: fetch refuses it unless --no-verify.
 */
export const KNOWN_DATASETS: Record<string, KnownDataset> = {
  'ml-latest-small': { name: 'ml-latest-small', folder: 'ml-latest-small', format: 'csv', url: GROUPLENS + 'ml-latest-small.zip', sha256: '696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436', bytes: 978202, licence: RESEARCH_ONLY + '; may be redistributed under the same terms' },
  'ml-latest': { name: 'ml-latest', folder: 'ml-latest', format: 'csv', url: GROUPLENS + 'ml-latest.zip', sha256: '66a9e518c747d76b241d9a859b001a2619d3ed1672ceef599eb50daf73a7b4a3', bytes: 0, licence: RESEARCH_ONLY },
  'ml-100k': { name: 'ml-100k', folder: 'ml-100k', format: 'ml-100k', url: GROUPLENS + 'ml-100k.zip', sha256: '50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229', bytes: 4924029, licence: RESEARCH_ONLY + '; no redistribution' },
  'ml-1m': { name: 'ml-1m', folder: 'ml-1m', format: 'dat', url: GROUPLENS + 'ml-1m.zip', sha256: 'a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20', bytes: 5917549, licence: RESEARCH_ONLY + '; no redistribution' },
  'ml-10m': { name: 'ml-10m', folder: 'ml-10M100K', format: 'dat', url: GROUPLENS + 'ml-10m.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY + '; no redistribution' },
  'ml-20m': { name: 'ml-20m', folder: 'ml-20m', format: 'csv', url: GROUPLENS + 'ml-20m.zip', sha256: '96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3', bytes: 198702078, licence: RESEARCH_ONLY },
  'ml-25m': { name: 'ml-25m', folder: 'ml-25m', format: 'csv', url: GROUPLENS + 'ml-25m.zip', sha256: '8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa', bytes: 261978986, licence: RESEARCH_ONLY },
};

/** collab's own folder: $COLLAB_HOME, else the platform's cache dir (XDG on Linux). */
export function collabHome(): string {
  const env = process.env.COLLAB_HOME;
  if (env) return env;
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Caches', 'collab');
    case 'win32':
      return join(process.env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'collab', 'Cache');
    default:
      return join(process.env.XDG_CACHE_HOME ?? join(home, '.cache'), 'collab');
  }
}

/** Folder that `collab data fetch` unpacks releases into. */
export function datasetCacheDir(): string {
  return join(collabHome(), 'datasets');
}

/**
 * Folders searched for a dataset by name, in order: --data-dir, $COLLAB_DATA_DIR, then the cache.
 */
export function datasetSearchDirs(dataDir?: string): string[] {
  const dirs: string[] = [];
  if (dataDir) dirs.push(dataDir);
  if (process.env.COLLAB_DATA_DIR) dirs.push(process.env.COLLAB_DATA_DIR);
  dirs.push(datasetCacheDir());
  return dirs;
}

/** The unpacked folder of a known dataset, or undefined when none of the search dirs holds it. */
export function locateDataset(name: string, dataDir?: string): string | undefined {
  const known = KNOWN_DATASETS[name];
  if (!known) return undefined;
  for (const dir of datasetSearchDirs(dataDir)) {
    const candidate = join(dir, known.folder);
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
  }
  return undefined;
}

/**
 * A path under a dataset name (`ml-100k/u1.base`) in the folder where that dataset is found (--data-dir,
 * $COLLAB_DATA_DIR, then the cache), so a file of a dataset resolves wherever the name itself would. A path
 * that exists as given, or that does not start with a known dataset name, is returned unchanged; so is one
 * whose dataset holds no such file (the caller's "not found" error then names it).
 */
export function resolveDatasetPath(spec: string, dataDir?: string): string {
  if (existsSync(spec)) return spec;
  const parts = spec.split(/[\\/]/);
  const head = parts[0]!;
  const rest = parts.slice(1).filter((p) => p.length > 0);
  const known = KNOWN_DATASETS[head] ?? Object.values(KNOWN_DATASETS).find((d) => d.folder === head);
  if (!known || rest.length === 0) return spec;
  for (const dir of datasetSearchDirs(dataDir)) {
    const candidate = join(dir, known.folder, ...rest);
    if (existsSync(candidate)) return candidate;
  }
  return spec;
}

/** The known dataset a path starts with (`ml-100k/u1.base` → ml-100k), for error messages. */
export function datasetOfPath(spec: string): KnownDataset | undefined {
  const head = spec.split(/[\\/]/)[0]!;
  if (head === spec) return undefined;
  return KNOWN_DATASETS[head] ?? Object.values(KNOWN_DATASETS).find((d) => d.folder === head);
}
