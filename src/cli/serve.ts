import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Command, Option } from 'commander';
import pino from 'pino';
import { datasetIdentity, requireSameDataset } from '../data/identity.js';
import { readModelManifest } from '../io/model-file.js';
import { checkDbFlag } from './db.js';
import { CollabError } from '../core/errors.js';
import { describeFsError } from '../core/fs-errors.js';
import { loadDataset } from '../data/load.js';
import { loadRecommender } from '../recommend/load.js';
import { reloadOnSighup } from '../server/reload.js';
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
  tokenFile?: string;
  data?: string;
  dataDir?: string;
  log?: string;
  drain?: string;
  forceDataset?: boolean;
}

/** Values of `collab serve --log`. */
const LOG_FORMATS = ['json', 'quiet'] as const;

/** Adds `collab serve --model M` (HTTP API and web page) to the program. */
export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve a trained model: JSON API under /api (OpenAPI at /api/openapi.json) and the web page at /, ratings kept in SQLite or PostgreSQL')
    .requiredOption('--model <file>', 'trained model file (collab train --out)')
    .addOption(new Option('--port <n>', 'TCP port (0 picks a free one)').default('3000'))
    .addOption(new Option('--host <address>', 'interface to listen on (0.0.0.0 for every interface)').default('127.0.0.1'))
    .addOption(new Option('--db <file-or-url>', 'SQLite file (created and migrated on first start) or a postgres:// URL').default('collab.sqlite'))
    .addOption(new Option('--token-file <file>', 'file holding the bearer token required by write endpoints (default: $COLLAB_TOKEN; none = open writes)'))
    .addOption(new Option('--token <token>', 'the bearer token itself (visible to every user in `ps`: prefer --token-file or $COLLAB_TOKEN)'))
    .addOption(new Option('--force-dataset', 'serve even though the database holds another dataset than the model was trained on'))
    .addOption(new Option('--data <dataset>', 'training ratings imported on first start, when the database has none (a dataset name, folder or file)'))
    .addOption(new Option('--data-dir <dir>', 'folder holding unpacked datasets, looked at first (default: $COLLAB_DATA_DIR)'))
    .addOption(new Option('--log <format>', 'json: one JSON line per request with its latency on stderr; quiet: warnings and errors only (default: json when stderr is not a terminal, else quiet)').choices(LOG_FORMATS))
    .addOption(new Option('--drain <seconds>', 'on SIGTERM, answer /api/health with 503 this long before closing, so a load balancer stops sending first').default('0'));
  withExamples(
    withCommonFlags(cmd),
    'collab serve --model model.json',
    'collab serve --model model.json --data ml-latest-small --port 8080',
    'COLLAB_TOKEN=s3cret collab serve --model model.json --db postgres://collab@localhost/collab',
    'collab serve --model model.json --db postgres://collab@localhost/collab --log json --drain 2   # a replica behind a balancer',
    'collab serve --model model.json --token-file secrets/collab-token',
  );
  cmd.action(async (flags: ServeFlags) => {
    await runCommand(flags, (out) => serveCommand(flags, out));
  });
}

/** Runs the server until SIGINT/SIGTERM, then closes it gracefully; returns what it served. */
export async function serveCommand(flags: ServeFlags, out: Reporter): Promise<{ url: string; db: string; modelMovies: number; databaseMovies: number; stoppedBy: string }> {
  const port = intFlag('port', flags.port)!;
  if (port < 0 || port > 65535) throw new CollabError('USAGE', `--port must be from 0 to 65535, got ${port}`, { field: 'port' });
  const token = serveToken(flags);
  if (token !== undefined && token.length < 8) {
    throw new CollabError('USAGE', 'the token must be at least 8 characters; pick a longer --token-file, $COLLAB_TOKEN or --token', { field: 'token' });
  }
  checkDbFlag(flags.db);
  // a busy port is found before the model is loaded and the catalogue synced, not after
  await requirePortFree(flags.host, port);
  const modelDataset = readModelManifest(flags.model).dataset;
  const drainSeconds = Number(flags.drain ?? '0');
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0 || drainSeconds > 600) {
    throw new CollabError('USAGE', `--drain must be a number of seconds from 0 to 600, got ${flags.drain}`, { field: 'drain' });
  }
  const logFormat = flags.log ?? (process.stderr.isTTY ? 'quiet' : 'json');
  const recommender = loadRecommender(flags.model);
  // process.stderr into a file or pipe is one blocking write per line, which halved the requests/s of a
  // busy replica with --log json; pino's asynchronous destination batches lines (flushed on shutdown)
  const logStream = pino.destination({ dest: 2, sync: false });
  const dataset = flags.data;
  const initialRatings =
    dataset === undefined
      ? undefined
      : (): RatingRow[] => {
          const ds = loadDataset(dataset, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir });
          if (flags.forceDataset !== true) {
            requireSameDataset(modelDataset, datasetIdentity(ds), { have: 'the model was trained on', given: `--data ${dataset} is`, file: flags.model, override: '--force-dataset' });
          }
          return datasetRatingRows(ds.ratings);
        };
  const server = await startServer({
    recommender,
    db: flags.db,
    port,
    host: flags.host,
    ...(token !== undefined ? { token } : {}),
    ...(initialRatings ? { initialRatings } : {}),
    modelPath: flags.model,
    drainMs: drainSeconds * 1000,
    ...(modelDataset ? { dataset: modelDataset } : {}),
    forceDataset: flags.forceDataset === true,
    // at level info, RequestLog writes one JSON line per request with its latency
    app: { logger: { level: logFormat === 'json' ? 'info' : 'warn', stream: logStream } },
    log: (line) => out.info(line),
  });
  const modelMovies = recommender.movies().length;
  const databaseMovies = (await server.store.counts()).movies;
  const note = unratedMoviesNote(databaseMovies, modelMovies);
  if (note) out.info(`the database lists ${databaseMovies} movies, the model ${modelMovies}: ${note}`);
  out.info(`collab serving ${recommender.info.kind} on ${server.url} (database: ${server.store.kind} ${server.store.location}${token ? ', writes need the bearer token' : ''})`);
  const stopReloads = reloadOnSighup(server.app.models, (line) => out.info(line));
  const signal = await waitForShutdownSignal();
  stopReloads();
  out.info(`${signal}: ${drainSeconds > 0 ? `draining for ${drainSeconds} s (health 503), then ` : ''}finishing in-flight requests and closing the database`);
  await server.close();
  logStream.flushSync();
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

/**
 * The write token: --token-file (first line), else $COLLAB_TOKEN, else --token, which works but is
 * visible to every user of the machine in `ps`, so it gets a warning.
 */
function serveToken(flags: ServeFlags): string | undefined {
  if (flags.tokenFile !== undefined && flags.token !== undefined) {
    throw new CollabError('USAGE', 'give --token-file or --token, not both', { field: 'token' });
  }
  if (flags.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.tokenFile, 'utf8');
    } catch (err) {
      throw new CollabError('BAD_FILE', `cannot read the token file: ${describeFsError(err)}`, { file: flags.tokenFile, field: 'token-file' });
    }
    const token = text.split(/\r?\n/)[0]!.trim();
    if (token === '') throw new CollabError('BAD_FILE', 'the token file is empty; write the token on its first line', { file: flags.tokenFile, field: 'token-file' });
    return token;
  }
  if (flags.token !== undefined) {
    process.stderr.write('collab: warning: --token is visible to every user of this machine (ps); prefer --token-file or $COLLAB_TOKEN\n');
    return flags.token;
  }
  return process.env.COLLAB_TOKEN;
}

/** Throws a usage error naming the port when something already listens on host:port (port 0 always passes). */
export async function requirePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new CollabError('USAGE', `port ${port} on ${host} is already in use (another collab serve?); stop it or pick another --port`, { field: 'port' }));
      else if (err.code === 'EACCES') reject(new CollabError('USAGE', `port ${port} on ${host} needs privileges; pick a port above 1023`, { field: 'port' }));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new CollabError('USAGE', `--host ${host} is not an address of this machine`, { field: 'host' }));
      else reject(err);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
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
