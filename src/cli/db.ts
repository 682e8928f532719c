import { Command, Option } from 'commander';
import { loadDataset } from '../data/load.js';
import { closeSync, existsSync, readSync, statSync } from 'node:fs';
import { openForReading } from '../core/fs-errors.js';
import { CollabError } from '../core/errors.js';
import { datasetIdentity, requireConsistentTitles, requireSameDataset } from '../data/identity.js';
import { openStore } from '../server/store/open-store.js';
import type { MovieRow, Store } from '../server/store/store.js';
import { runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';
import { datasetRatingRows, unratedMoviesNote } from './serve.js';

interface DbFlags extends GlobalFlags {
  db: string;
  dataDir?: string;
  skipBadRows?: boolean;
  forceDataset?: boolean;
}

/** Adds `collab db import <dataset>` and `collab db info` to the program. */
export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the service database (SQLite file or PostgreSQL): import datasets, show counts');
  const dbOption = () => new Option('--db <file-or-url>', 'SQLite file (created and migrated when missing) or a postgres:// URL').default('collab.sqlite');
  const imp = db
    .command('import')
    .description('import a dataset\'s movies and ratings into the database (ratings as training ratings; an existing (user, movie) rating is replaced)')
    .argument('<dataset>', 'a dataset name (ml-latest-small, ml-100k, ...), a dataset folder or a ratings file')
    .addOption(dbOption())
    .addOption(new Option('--data-dir <dir>', 'folder holding unpacked datasets, looked at first (default: $COLLAB_DATA_DIR)'))
    .addOption(new Option('--skip-bad-rows', 'count malformed rows instead of stopping at the first'))
    .addOption(new Option('--force-dataset', 'import even though the database holds another dataset (their movie ids then mix)'));
  withExamples(withCommonFlags(imp), 'collab db import ml-latest-small', 'collab db import ml-100k --db postgres://collab@localhost/collab --json');
  imp.action(async (spec: string, flags: DbFlags) => {
    await runCommand(flags, (out) => importCommand(spec, flags, out));
  });
  const info = db.command('info').description('schema version and row counts of the database').addOption(dbOption());
  withExamples(withCommonFlags(info), 'collab db info --db collab.sqlite --json');
  info.action(async (flags: DbFlags) => {
    await runCommand(flags, async (out) => {
      const store = await openCliStore(flags.db);
      try {
        const dataset = await store.datasetIdentity();
        const result = { db: store.location, kind: store.kind, schemaVersion: await store.schemaVersion(), ...(await store.counts()), ...(dataset ? { dataset } : {}) };
        out.info(`${result.kind} ${result.db}: schema v${result.schemaVersion}, ${result.movies} movies, ${result.users} users, ${result.ratings} ratings (${result.apiRatings} from the API)${dataset ? `; dataset ${dataset.name} (${dataset.items} movies)` : ''}`);
        return result;
      } finally {
        await store.close();
      }
    });
  });
}

/** Loads the dataset, then writes its movies (titles where the source has them) and ratings in two transactions. */
async function importCommand(spec: string, flags: DbFlags, out: Reporter): Promise<{ db: string; dataset: string; movies: number; ratedMovies: number; ratings: number; users: number }> {
  const ds = loadDataset(spec, { ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}), ...(flags.skipBadRows ? { skipBadRows: true } : {}) });
  const r = ds.ratings;
  const count = new Int32Array(r.itemIds.size);
  const sum = new Float64Array(r.itemIds.size);
  for (let t = 0; t < r.ratings.length; t++) {
    count[r.items[t]!]!++;
    sum[r.items[t]!]! += r.ratings[t]!;
  }
  // every rated movie needs a row (ratings reference movies); a source without titles gets "Movie <id>"
  const movies: MovieRow[] = [];
  const seen = new Set<unknown>();
  for (let i = 0; i < r.itemIds.size; i++) {
    const id = r.itemIds.idOf(i);
    const meta = ds.items.get(id);
    seen.add(id);
    movies.push({ movieId: id, title: meta?.title ?? `Movie ${id}`, genres: meta?.genres ?? [], ...(meta?.year !== undefined ? { year: meta.year } : {}), ratingCount: count[i]!, meanRating: count[i]! > 0 ? sum[i]! / count[i]! : 0 });
  }
  for (const [id, meta] of ds.items) {
    if (!seen.has(id)) movies.push({ movieId: id, title: meta.title, genres: meta.genres, ...(meta.year !== undefined ? { year: meta.year } : {}) });
  }
  const identity = datasetIdentity(ds);
  const store = await openCliStore(flags.db);
  try {
    const held = await store.datasetIdentity();
    if (flags.forceDataset !== true) {
      requireSameDataset(held, identity, { have: `the database ${store.location} holds`, given: `the import (${spec}) is`, override: '--force-dataset' });
    }
    let toWrite = movies;
    if ((ds.items.size === 0 || held === undefined) && (await store.counts()).movies > 0) {
      const { movies: stored } = await store.searchMovies({ limit: 100_000_000 });
      if (ds.items.size === 0) {
        // a bare ratings file has no titles: its "Movie <id>" rows must not rename the movies already there
        const have = new Set(stored.map((m) => String(m.movieId)));
        toWrite = movies.filter((m) => !have.has(String(m.movieId)));
      } else if (flags.forceDataset !== true) {
        // a database from before identities were recorded: its titles must agree with the import's
        requireConsistentTitles(stored, movies, { have: `the database ${store.location}`, given: `the import (${spec})`, override: '--force-dataset' });
      }
    }
    await store.importMovies(toWrite);
    if (held === undefined && identity !== undefined) await store.setDatasetIdentity(identity);
    await store.importRatings(datasetRatingRows(r), 'train');
    const counts = await store.counts();
    out.info(`imported ${ds.name}: ${movies.length} movies, ${r.ratings.length} ratings into ${store.kind} ${store.location} (now ${counts.users} users, ${counts.ratings} ratings)`);
    const note = unratedMoviesNote(movies.length, r.itemIds.size);
    if (note) out.info(`${r.itemIds.size} of the ${movies.length} movies are rated: ${note}`);
    return { db: store.location, dataset: ds.name, movies: movies.length, ratedMovies: r.itemIds.size, ratings: r.ratings.length, users: counts.users };
  } finally {
    await store.close();
  }
}

/**
 * Checks a --db value before anything is opened: a file that exists must be a SQLite database, so
 * `--db ratings.csv` is refused naming the file (and the file is left untouched) instead of failing
 * deep inside the driver with "file is not a database".
 */
export function checkDbFlag(db: string): void {
  if (/^postgres(ql)?:\/\//.test(db) || !existsSync(db)) return;
  if (statSync(db).isDirectory()) throw new CollabError('BAD_FILE', 'is a folder, not a database; give a .sqlite file (created when missing) or a postgres:// URL', { file: db, field: 'db' });
  const head = Buffer.alloc(16);
  const fd = openForReading(db);
  let n = 0;
  try {
    n = readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  // An empty file is a database SQLite has not written yet.
  if (n > 0 && head.toString('latin1', 0, n) !== 'SQLite format 3\0') {
    throw new CollabError('BAD_FILE', 'is not a SQLite database; give a .sqlite file (created when missing), a new path or a postgres:// URL', { file: db, field: 'db' });
  }
}

/** Opens the --db store after {@link checkDbFlag}. */
export async function openCliStore(db: string): Promise<Store> {
  checkDbFlag(db);
  return openStore(db);
}
