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

/** The releases collab can fetch and read by name. sha256/bytes are pinned by the cache module. */
export const KNOWN_DATASETS: Record<string, KnownDataset> = {
  'ml-latest-small': { name: 'ml-latest-small', folder: 'ml-latest-small', format: 'csv', url: GROUPLENS + 'ml-latest-small.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY + '; may be redistributed under the same terms' },
  'ml-latest': { name: 'ml-latest', folder: 'ml-latest', format: 'csv', url: GROUPLENS + 'ml-latest.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY },
  'ml-100k': { name: 'ml-100k', folder: 'ml-100k', format: 'ml-100k', url: GROUPLENS + 'ml-100k.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY + '; no redistribution' },
  'ml-1m': { name: 'ml-1m', folder: 'ml-1m', format: 'dat', url: GROUPLENS + 'ml-1m.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY + '; no redistribution' },
  'ml-10m': { name: 'ml-10m', folder: 'ml-10M100K', format: 'dat', url: GROUPLENS + 'ml-10m.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY + '; no redistribution' },
  'ml-20m': { name: 'ml-20m', folder: 'ml-20m', format: 'csv', url: GROUPLENS + 'ml-20m.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY },
  'ml-25m': { name: 'ml-25m', folder: 'ml-25m', format: 'csv', url: GROUPLENS + 'ml-25m.zip', sha256: '', bytes: 0, licence: RESEARCH_ONLY },
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
