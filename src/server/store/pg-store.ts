import pg from 'pg';
import { CollabError } from '../../core/errors.js';
import { parseRawId, type RawId } from '../../data/id-map.js';
import { titleSearchKey } from '../../data/titles.js';
import type { DatasetIdentity } from '../../data/identity.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { parseDatasetIdentity } from './store.js';
import {
  movieSearchFilter,
  movieFromDb,
  packGenres,
  ratingFromDb,
  type MovieQuery,
  type MovieRow,
  type RatingRow,
  type RatingSource,
  type RatingsColumns,
  DatabaseUnavailableError,
  type Store,
  type StoreCounts,
  type StoredRating,
} from './store.js';

/** Options of `PgStore.open`. */
export interface PgStoreOptions {
  /** Schema holding the tables, created when missing (tests use one schema each). Default: the server's search_path (public). */
  schema?: string;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** Milliseconds to get a connection (a new one, or a free one of a busy pool). Default 3000. */
  connectTimeoutMs?: number;
  /** Milliseconds a statement may run on the server (statement_timeout). Default: no limit (`collab train --db` reads every rating in one query; the service sets 10000). */
  statementTimeoutMs?: number;
  /** Milliseconds the client waits for any answer before dropping the connection (a frozen server). Default: no limit (the service sets 12000). */
  queryTimeoutMs?: number;
}

/** Seconds a client is told to wait (Retry-After) when the server is down or not answering. */
const RETRY_AFTER_SECONDS = 2;

/** Socket errors and PostgreSQL SQLSTATEs that mean the server cannot serve now, not that the request is wrong. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '57014', '53300', '08000', '08001', '08003', '08004', '08006']);

/** node-postgres's own messages for a connection that failed or timed out. */
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection error|Client was closed|not queryable/i;

/** Whether `err` says the server is down, frozen or shutting down (answered 503) rather than a bad query. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  return UNAVAILABLE_CODES.has(String(e.code)) || UNAVAILABLE_MESSAGES.test(String(e.message ?? ''));
}

/** The 503 error for a failure `isUnavailable` recognised. */
function unavailable(err: unknown): DatabaseUnavailableError {
  if (err instanceof DatabaseUnavailableError) return err;
  return new DatabaseUnavailableError('DATABASE_UNAVAILABLE', `the PostgreSQL database is not answering (${String((err as Error).message).split('\n')[0]}); nothing was written, retry shortly`, RETRY_AFTER_SECONDS, { cause: err });
}

/** `work`, with server-down failures turned into DatabaseUnavailableError. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw isUnavailable(err) ? unavailable(err) : err;
  }
}

/** Rows per INSERT of a bulk import (5 array parameters each, so any size works; this bounds memory). */
const IMPORT_BATCH = 20_000;

/** Any one number the migrations lock on, so two servers starting at once do not migrate twice. */
const MIGRATION_LOCK = 4_180_605;

/** The URL with its password hidden, for messages and /api/health. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** The PostgreSQL store (node-postgres pool), same schema and migrations as SQLite. */
export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  /** Connects, creates the schema when asked, and applies pending migrations. */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new CollabError('INVALID_OPTION', `schema "${schema}" must be lower-case letters, digits and _`, { field: 'schema' });
    }
    // every wait is bounded: a stopped server fails fast, a frozen one (SIGSTOP, lost network) times out
    const config: pg.PoolConfig = {
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
      ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
      ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
      idle_in_transaction_session_timeout: 30_000,
      idleTimeoutMillis: 10_000,
      keepAlive: true,
    };
    if (schema !== undefined) config.options = `-c search_path=${schema}`;
    const pool = new pg.Pool(config);
    // an idle client losing its server must not crash the process; the next query reports it
    pool.on('error', () => {});
    const store = new PgStore(pool, redactUrl(url));
    try {
      if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await store.migrate();
    } catch (err) {
      await pool.end();
      if (err instanceof CollabError) throw err;
      // the driver's own words (connect ECONNREFUSED ...), not the 503 text meant for HTTP clients
      const reason = err instanceof DatabaseUnavailableError && err.cause instanceof Error ? err.cause : (err as Error);
      throw new CollabError('BAD_FILE', `cannot open PostgreSQL database ${redactUrl(url)}: ${reason.message}; check the URL and that the server is running`, { field: 'db' }, { cause: err });
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.inTransaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(MIGRATIONS_TABLE);
      const applied = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        for (const sql of m.statements) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
      // movies stored before migration 2 get their search key here (SQL cannot fold titles)
      const unkeyed = (await c.query<{ id: string; title: string }>("SELECT id, title FROM movies WHERE search_title = ''")).rows;
      if (unkeyed.length > 0) {
        await c.query('UPDATE movies SET search_title = x.k FROM unnest($1::text[], $2::text[]) AS x (id, k) WHERE movies.id = x.id', [unkeyed.map((r) => r.id), unkeyed.map((r) => titleSearchKey(r.title))]);
      }
    });
  }

  /** Runs `body` in a transaction; a connection that failed is dropped from the pool, not reused. */
  private async inTransaction<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await guarded(() => this.pool.connect());
    // the server may drop a checked-out connection between two queries; the next query reports it
    const ignore = (): void => {};
    c.on('error', ignore);
    let broken = false;
    try {
      await c.query('BEGIN');
      const out = await body(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      broken = isUnavailable(err);
      // a ROLLBACK to a frozen server would wait out another query timeout; dropping the connection rolls back
      if (!broken) await c.query('ROLLBACK').catch(() => {});
      throw broken ? unavailable(err) : err;
    } finally {
      c.off('error', ignore);
      c.release(broken);
    }
  }

  /** A pool query with server-down failures as DatabaseUnavailableError. */
  private query(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    return guarded(() => this.pool.query(text, params));
  }

  /** Connections of the pool by state. */
  poolState(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0].v);
  }

  async counts(): Promise<StoreCounts> {
    const r = (
      await this.query(
        "SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM movies) AS movies, (SELECT COUNT(*) FROM ratings) AS ratings, (SELECT COUNT(*) FROM ratings WHERE source = 'api') AS api",
      )
    ).rows[0];
    return { users: Number(r.users), movies: Number(r.movies), ratings: Number(r.ratings), apiRatings: Number(r.api) };
  }

  async importMovies(movies: MovieRow[]): Promise<number> {
    await this.inTransaction(async (c) => {
      for (let start = 0; start < movies.length; start += IMPORT_BATCH) {
        const batch = movies.slice(start, start + IMPORT_BATCH);
        await c.query(
          `INSERT INTO movies (id, title, genres, year, rating_count, mean_rating, search_title)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::real[], $7::text[])
           ON CONFLICT (id) DO UPDATE SET title = excluded.title, genres = excluded.genres, year = excluded.year, search_title = excluded.search_title,
             rating_count = excluded.rating_count, mean_rating = excluded.mean_rating`,
          [
            batch.map((m) => String(m.movieId)),
            batch.map((m) => m.title),
            batch.map((m) => packGenres(m.genres)),
            batch.map((m) => m.year ?? null),
            batch.map((m) => m.ratingCount ?? 0),
            batch.map((m) => m.meanRating ?? 0),
            batch.map((m) => titleSearchKey(m.title)),
          ],
        );
      }
    });
    return movies.length;
  }

  async importRatings(rows: RatingRow[], source: RatingSource = 'train'): Promise<number> {
    const now = Date.now();
    // one statement may not update a row twice: keep the last rating of each (user, movie)
    const last = new Map<string, RatingRow>();
    for (const r of rows) last.set(`${r.userId}\u0000${r.movieId}`, r);
    const unique = [...last.values()];
    await this.inTransaction(async (c) => {
      for (let start = 0; start < unique.length; start += IMPORT_BATCH) {
        const batch = unique.slice(start, start + IMPORT_BATCH);
        const users = batch.map((r) => String(r.userId));
        await c.query('INSERT INTO users (id, created_at) SELECT DISTINCT u, $2::bigint FROM unnest($1::text[]) AS u ON CONFLICT (id) DO NOTHING', [users, now]);
        await c.query(
          `INSERT INTO ratings (user_id, movie_id, rating, rated_at, source)
           SELECT u, m, r, t, $5 FROM unnest($1::text[], $2::text[], $3::real[], $4::bigint[]) AS x (u, m, r, t)
           ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at, source = excluded.source`,
          [users, batch.map((r) => String(r.movieId)), batch.map((r) => r.rating), batch.map((r) => r.ratedAt ?? now), source],
        );
      }
    });
    return rows.length;
  }

  async upsertRating(userId: RawId, movieId: RawId, rating: number, ratedAt = Date.now()): Promise<StoredRating> {
    await this.inTransaction(async (c) => {
      if ((await c.query('SELECT 1 FROM movies WHERE id = $1', [String(movieId)])).rowCount === 0) {
        throw new CollabError('UNKNOWN_ITEM', `movie ${JSON.stringify(movieId)} is not in the catalogue; search /api/movies for valid ids`, { field: 'movieId' });
      }
      await c.query('INSERT INTO users (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [String(userId), ratedAt]);
      await c.query(
        `INSERT INTO ratings (user_id, movie_id, rating, rated_at, source) VALUES ($1, $2, $3, $4, 'api')
         ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at, source = excluded.source`,
        [String(userId), String(movieId), rating, ratedAt],
      );
    });
    return { userId, movieId, rating, ratedAt, source: 'api' };
  }

  async userRatings(userId: RawId): Promise<StoredRating[]> {
    const r = await this.query('SELECT user_id, movie_id, rating, rated_at, source FROM ratings WHERE user_id = $1 ORDER BY rated_at DESC, movie_id', [String(userId)]);
    return r.rows.map(ratingFromDb);
  }

  async searchMovies(query: MovieQuery): Promise<{ total: number; movies: MovieRow[] }> {
    const { conditions, params } = movieSearchFilter(query);
    let n = 0;
    // placeholders numbered in order; the conditions hold no other "?"
    const clause = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ').replace(/\?/g, () => `$${++n}`)}`;
    const total = Number((await this.query(`SELECT COUNT(*) AS n FROM movies ${clause}`, params)).rows[0].n);
    const rows = await this.query(
      `SELECT id, title, genres, year, rating_count, mean_rating FROM movies ${clause} ORDER BY rating_count DESC, title, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit ?? 20, query.offset ?? 0],
    );
    return { total, movies: rows.rows.map(movieFromDb) };
  }

  async ratingsColumns(): Promise<RatingsColumns> {
    const r = await guarded(() => this.pool.query({ text: 'SELECT user_id, movie_id, rating, rated_at FROM ratings ORDER BY rated_at, user_id, movie_id', rowMode: 'array' }));
    const n = r.rows.length;
    const users: RawId[] = new Array(n);
    const items: RawId[] = new Array(n);
    const ratings = new Float32Array(n);
    const ratedAt = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const row = r.rows[t] as [string, string, number, string];
      users[t] = parseRawId(row[0]);
      items[t] = parseRawId(row[1]);
      ratings[t] = Number(row[2]);
      ratedAt[t] = Number(row[3]);
    }
    return { users, items, ratings, ratedAt };
  }

  async datasetIdentity(): Promise<DatasetIdentity | undefined> {
    const rows = (await this.pool.query("SELECT value FROM collab_meta WHERE key = 'dataset'")).rows as { value: string }[];
    return rows[0] ? parseDatasetIdentity(rows[0].value) : undefined;
  }

  async setDatasetIdentity(identity: DatasetIdentity): Promise<void> {
    await this.pool.query("INSERT INTO collab_meta (key, value) VALUES ('dataset', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [JSON.stringify(identity)]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
