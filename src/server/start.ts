import type { FastifyInstance } from 'fastify';
import type { Recommender } from '../recommend/types.js';
import { buildApp, type AppOptions } from './app.js';
import { catalogueRows } from './service.js';
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
    // upsert, not insert-if-empty: a newer model may know more movies than the database
    const movies = await store.importMovies(catalogueRows(options.recommender));
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
