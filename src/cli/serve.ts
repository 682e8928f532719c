import { Command, Option } from 'commander';
import { CollabError } from '../core/errors.js';
import { loadDataset } from '../data/load.js';
import { loadRecommender } from '../recommend/load.js';
import { startServer, waitForShutdownSignal } from '../server/start.js';
import type { RatingRow } from '../server/store/store.js';
import { intFlag, runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

/** Flags of `collab serve` (also what `collab quickstart --serve` passes). */
export interface ServeFlags extends GlobalFlags {
  model: string;
  port: string;
  host: string;
  db: string;
  token?: string;
  data?: string;
  dataDir?: string;
}

/** Adds `collab serve --model M` (HTTP API and web page) to the program. */
export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve a trained model: JSON API under /api (OpenAPI at /api/openapi.json) and the web page at /, ratings kept in SQLite or PostgreSQL')
    .requiredOption('--model <file>', 'trained model file (collab train --out)')
    .addOption(new Option('--port <n>', 'TCP port (0 picks a free one)').default('3000'))
    .addOption(new Option('--host <address>', 'interface to listen on (0.0.0.0 for every interface)').default('127.0.0.1'))
    .addOption(new Option('--db <file-or-url>', 'SQLite file (created and migrated on first start) or a postgres:// URL').default('collab.sqlite'))
    .addOption(new Option('--token <token>', 'bearer token required by write endpoints (default: $COLLAB_TOKEN; none = open writes)'))
    .addOption(new Option('--data <dataset>', 'training ratings imported on first start, when the database has none (a dataset name, folder or file)'))
    .addOption(new Option('--data-dir <dir>', 'folder holding unpacked datasets, looked at first (default: $COLLAB_DATA_DIR)'));
  withExamples(
    withCommonFlags(cmd),
    'collab serve --model model.json',
    'collab serve --model model.json --data ml-latest-small --port 8080',
    'COLLAB_TOKEN=s3cret collab serve --model model.json --db postgres://collab@localhost/collab',
  );
  cmd.action(async (flags: ServeFlags) => {
    await runCommand(flags, (out) => serveCommand(flags, out));
  });
}

/** Runs the server until SIGINT/SIGTERM, then closes it gracefully; returns what it served. */
export async function serveCommand(flags: ServeFlags, out: Reporter): Promise<{ url: string; db: string; modelMovies: number; databaseMovies: number; stoppedBy: string }> {
  const port = intFlag('port', flags.port)!;
  if (port < 0 || port > 65535) throw new CollabError('USAGE', `--port must be from 0 to 65535, got ${port}`, { field: 'port' });
  const token = flags.token ?? process.env.COLLAB_TOKEN;
  if (token !== undefined && token.length < 8) {
    throw new CollabError('USAGE', 'the token must be at least 8 characters; pick a longer --token or $COLLAB_TOKEN', { field: 'token' });
  }
  const recommender = await loadRecommender(flags.model);
  const dataset = flags.data;
  const initialRatings =
    dataset === undefined
      ? undefined
      : (): RatingRow[] => {
          const ds = loadDataset(dataset, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir });
          return datasetRatingRows(ds.ratings);
        };
  const server = await startServer({
    recommender,
    db: flags.db,
    port,
    host: flags.host,
    ...(token !== undefined ? { token } : {}),
    ...(initialRatings ? { initialRatings } : {}),
    app: { logger: { level: 'warn', stream: process.stderr } },
    log: (line) => out.info(line),
  });
  const modelMovies = recommender.movies().length;
  const databaseMovies = (await server.store.counts()).movies;
  const note = unratedMoviesNote(databaseMovies, modelMovies);
  if (note) out.info(`the database lists ${databaseMovies} movies, the model ${modelMovies}: ${note}`);
  out.info(`collab serving ${recommender.info.kind} on ${server.url} (database: ${server.store.kind} ${server.store.location}${token ? ', writes need the bearer token' : ''})`);
  const signal = await waitForShutdownSignal();
  out.info(`${signal}: finishing in-flight requests and closing the database`);
  await server.close();
  return { url: server.url, db: server.store.location, modelMovies, databaseMovies, stoppedBy: signal };
}

/**
 * Why a movie count differs between a dataset (or database) and a model: movies.csv also lists movies
 * nobody rated, and a model knows only movies with a training rating. Undefined when nothing differs.
 */
export function unratedMoviesNote(listed: number, rated: number): string | undefined {
  if (listed <= rated) return undefined;
  const n = listed - rated;
  return `${n} ${n === 1 ? 'movie has' : 'movies have'} no rating (the movie list names movies nobody rated); a model knows only the ${rated} rated ones, so ${n === 1 ? 'it' : 'they'} can be searched but not recommended`;
}

/** Rows of a loaded dataset with raw ids (timestamps in seconds become milliseconds). */
export function datasetRatingRows(r: import('../data/ratings.js').Ratings): RatingRow[] {
  const rows: RatingRow[] = new Array(r.ratings.length);
  for (let t = 0; t < r.ratings.length; t++) {
    const ts = r.timestamps?.[t];
    rows[t] = {
      userId: r.userIds.idOf(r.users[t]!),
      movieId: r.itemIds.idOf(r.items[t]!),
      rating: r.ratings[t]!,
      ...(ts !== undefined && Number.isFinite(ts) ? { ratedAt: Math.round(ts * 1000) } : {}),
    };
  }
  return rows;
}
