import type { FastifyInstance } from 'fastify';
import type { Recommender } from '../recommend/types.js';
import { buildApp, type AppOptions } from './app.js';
import { catalogueRows } from './service.js';
import { isPlaceholderTitle, requireConsistentTitles, requireSameDataset, type DatasetIdentity } from '../data/identity.js';
import { openStore } from './store/open-store.js';
import type { PgStoreOptions } from './store/pg-store.js';
import type { SqliteStoreOptions } from './store/sqlite-store.js';
import type { RatingRow, Store } from './store/store.js';

/** Options of `startServer`. */
export interface StartOptions {
  recommender: Recommender;
  /** SQLite file or postgres:// URL. Required. */
  db: string;
  /** TCP port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Bearer token of the write endpoints. Default: none. */
  token?: string;
  /** Training ratings to import on first start (when the database has none). Default: none. */
  initialRatings?: () => RatingRow[];
  /** PostgreSQL schema (tests). Default: the server's search_path. */
  pgSchema?: string;
  /** Database timeouts and pool size (see PgStoreOptions, SqliteStoreOptions). Default: SERVING_STORE_OPTIONS. */
  store?: Omit<PgStoreOptions, 'schema'> & SqliteStoreOptions;
  /** Passed to buildApp. */
  app?: Pick<AppOptions, 'bodyLimit' | 'webRoot' | 'logger' | 'limits'>;
  /** The model file `recommender` came from, read again by reloads (SIGHUP, POST /api/model/reload). Default: none. */
  modelPath?: string;
  /** Milliseconds `close` keeps serving with /api/health at 503 before it stops accepting, so a balancer's health check moves traffic away first. Default 0. */
  drainMs?: number;
  /** The dataset the model was trained on: a database of another one is refused, one with none records it. Default: unknown (no check). */
  dataset?: DatasetIdentity;
  /** Serve even when the database holds another dataset (its catalogue rows are then overwritten). Default false. */
  forceDataset?: boolean;
  /** Line-by-line progress for people. Default: silent. */
  log?: (line: string) => void;
}

/**
 * Database limits while serving: a request never waits on PostgreSQL longer than these (a frozen
 * server answers 503), unlike the command line, whose long reads and imports have no statement limit.
 */
export const SERVING_STORE_OPTIONS: Readonly<Omit<PgStoreOptions, 'schema'> & SqliteStoreOptions> = {
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 10_000,
  queryTimeoutMs: 12_000,
  lockWaitMs: 2_000,
};

/** A running server. */
export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  /** http://host:port */
  url: string;
  /** Drains (health 503 for `drainMs`), stops accepting, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

/**
 * Opens (creating and migrating) the database, syncs the model's catalogue into it, imports the
 * training ratings on first start, and listens.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const store = await openStore(options.db, { ...SERVING_STORE_OPTIONS, ...options.store, ...(options.pgSchema === undefined ? {} : { schema: options.pgSchema }) });
  try {
    // before any catalogue row is written: a model of another dataset would rename the database's movies
    const held = await store.datasetIdentity();
    if (options.forceDataset !== true) {
      requireSameDataset(options.dataset, held, { have: 'the model was trained on', given: `the database ${store.location} holds`, override: '--force-dataset' });
    }
    let catalogue = catalogueRows(options.recommender);
    if ((held === undefined || catalogue.some((m) => isPlaceholderTitle(m.title))) && (await store.counts()).movies > 0) {
      const { movies: stored } = await store.searchMovies({ limit: 100_000_000 });
      if (held === undefined && options.forceDataset !== true) {
        // a database from before identities were recorded: its titles must agree with the model's
        requireConsistentTitles(stored, catalogue, { have: `the database ${store.location}`, given: 'the model', override: '--force-dataset' });
      }
      // a model that knows no title for a movie keeps the database's title, genres and year
      const byId = new Map(stored.map((m) => [String(m.movieId), m]));
      catalogue = catalogue.map((m) => {
        const known = isPlaceholderTitle(m.title) ? byId.get(String(m.movieId)) : undefined;
        return known ? { ...m, title: known.title, genres: known.genres, ...(known.year !== undefined ? { year: known.year } : {}) } : m;
      });
    }
    if (held === undefined && options.dataset !== undefined) await store.setDatasetIdentity(options.dataset);
    // upsert, not insert-if-empty: a newer model may know more movies than the database
    const movies = await store.importMovies(catalogue);
    log(`catalogue: ${movies} movies synced into ${store.kind} ${store.location}`);
    const counts = await store.counts();
    if (counts.ratings === 0 && options.initialRatings !== undefined) {
      // the movies table holds the model's catalogue: ratings of other movies cannot be used
      const rows = options.initialRatings().filter((r) => options.recommender.movie(r.movieId) !== undefined);
      await store.importRatings(rows, 'train');
      log(`first start: imported ${rows.length} training ratings`);
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  const app = await buildApp({
    recommender: options.recommender,
    store,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.modelPath !== undefined ? { modelPath: options.modelPath } : {}),
    ...options.app,
  });
  const address = await app.listen({ port: options.port ?? 3000, host: options.host ?? '127.0.0.1' });
  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    url: address,
    close: () => (closing ??= drainThenClose(app, options.drainMs ?? 0)),
  };
}

async function drainThenClose(app: FastifyInstance, drainMs: number): Promise<void> {
  app.drain();
  if (drainMs > 0) await new Promise((r) => setTimeout(r, drainMs));
  await app.close();
}

/** Resolves with the name of the first SIGINT or SIGTERM received (the signal to shut down gracefully). */
export function waitForShutdownSignal(): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const on = (signal: 'SIGINT' | 'SIGTERM') => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}
