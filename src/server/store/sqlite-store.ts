import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CollabError } from '../../core/errors.js';
import { parseRawId, type RawId } from '../../data/id-map.js';
import { titleSearchKey } from '../../data/titles.js';
import type { DatasetIdentity } from '../../data/identity.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { parseDatasetIdentity } from './store.js';
import {
  movieFromDb,
  movieSearchFilter,
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
  type MovieDbRow,
  type RatingDbRow,
} from './store.js';

/** Applies pending migrations; returns the schema version. */
function migrate(db: Database.Database): number {
  db.exec(MIGRATIONS_TABLE);
  const isApplied = db.prepare('SELECT 1 AS ok FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of MIGRATIONS) {
    // checked inside the write lock, so two processes opening a new file at once migrate it once
    db.transaction(() => {
      if (isApplied.get(m.version) !== undefined) return;
      for (const sql of m.statements) db.exec(sql);
      record.run(m.version, m.name, Date.now());
    }).immediate();
  }
  fillSearchTitles(db);
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}

/** Gives movies stored before migration 2 their search key (SQL cannot fold titles). */
function fillSearchTitles(db: Database.Database): void {
  const rows = db.prepare("SELECT id, title FROM movies WHERE search_title = ''").all() as { id: string; title: string }[];
  if (rows.length === 0) return;
  const update = db.prepare('UPDATE movies SET search_title = ? WHERE id = ?');
  db.transaction(() => {
    for (const r of rows) update.run(titleSearchKey(r.title), r.id);
  }).immediate();
}

/** Every fixed statement of the store, prepared once. */
function prepareAll(db: Database.Database) {
  return {
    version: db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'),
    counts: db.prepare(
      "SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM movies) AS movies, (SELECT COUNT(*) FROM ratings) AS ratings, (SELECT COUNT(*) FROM ratings WHERE source = 'api') AS api",
    ),
    upsertMovie: db.prepare(
      `INSERT INTO movies (id, title, genres, year, rating_count, mean_rating, search_title) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, genres = excluded.genres, year = excluded.year, search_title = excluded.search_title,
         rating_count = excluded.rating_count, mean_rating = excluded.mean_rating`,
    ),
    insertUser: db.prepare('INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING'),
    hasMovie: db.prepare('SELECT 1 AS ok FROM movies WHERE id = ?'),
    upsertRating: db.prepare(
      `INSERT INTO ratings (user_id, movie_id, rating, rated_at, source) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at, source = excluded.source`,
    ),
    userRatings: db.prepare('SELECT user_id, movie_id, rating, rated_at, source FROM ratings WHERE user_id = ? ORDER BY rated_at DESC, movie_id'),
    allRatings: db.prepare('SELECT user_id, movie_id, rating, rated_at FROM ratings ORDER BY rated_at, user_id, movie_id').raw(true),
  };
}

/** Options of `SqliteStore`. */
export interface SqliteStoreOptions {
  /** Milliseconds a write keeps retrying (asynchronously) while another connection holds the write lock; then DATABASE_BUSY. Default 2000. */
  lockWaitMs?: number;
}

/** SQLite result codes that mean the file itself cannot be used now (gone, read-only, disk full, damaged). */
const FILE_FAILURE = /^SQLITE_(IOERR|READONLY|CANTOPEN|FULL|NOTADB|CORRUPT)/;

/**
 * The SQLite store: one file in WAL mode, created and migrated on open. Readers never wait for the
 * write lock (WAL); a write that finds it held retries on timers, not in a blocking busy wait, so
 * the event loop keeps serving while another process (collab db import) writes.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<typeof prepareAll>;
  private readonly lockWaitMs: number;
  /** Device and inode of the file at open, to notice it being deleted or replaced under us. */
  private readonly identity: { dev: number; ino: number };

  /** Opens (creating folders and file as needed) and migrates `file`. */
  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.lockWaitMs = options.lockWaitMs ?? 2_000;
    this.location = resolve(file);
    mkdirSync(dirname(this.location), { recursive: true });
    try {
      this.db = new Database(this.location);
    } catch (err) {
      throw new CollabError('BAD_FILE', `cannot open SQLite database: ${(err as Error).message}; check the --db path`, { file: this.location }, { cause: err });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    // opening may wait for another process's migration; serving never blocks (see retrying)
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.db.pragma('busy_timeout = 0');
    this.stmt = prepareAll(this.db);
    const st = statSync(this.location);
    this.identity = { dev: st.dev, ino: st.ino };
  }

  /**
   * Runs `work` (synchronous SQLite calls), retrying with backoff on timers while the lock is held
   * elsewhere, until lockWaitMs; lock and file failures become DatabaseUnavailableError (503).
   */
  private async retrying<T>(work: () => T): Promise<T> {
    const deadline = Date.now() + this.lockWaitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      this.checkFile();
      try {
        return work();
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? '');
        if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
          if (Date.now() + delay <= deadline) {
            await sleep(delay);
            continue;
          }
          throw new DatabaseUnavailableError('DATABASE_BUSY', `the SQLite database is locked by another process (a write such as collab db import) for over ${this.lockWaitMs} ms; nothing was written, retry shortly`, Math.max(1, Math.ceil(this.lockWaitMs / 1000)), { cause: err });
        }
        if (FILE_FAILURE.test(code)) {
          throw new DatabaseUnavailableError('DATABASE_UNAVAILABLE', `the SQLite database file cannot be used: ${(err as Error).message}`, 5, { cause: err });
        }
        throw err;
      }
    }
  }

  /** Refuses to go on when the file was deleted or replaced: writes would land in an unlinked file and be lost. */
  private checkFile(): void {
    const st = statSync(this.location, { throwIfNoEntry: false });
    if (st === undefined || st.ino !== this.identity.ino || st.dev !== this.identity.dev) {
      throw new DatabaseUnavailableError('DATABASE_UNAVAILABLE', 'the SQLite database file was removed or replaced while the server ran; restore it and restart the server', 5);
    }
  }

  async schemaVersion(): Promise<number> {
    return this.retrying(() => (this.stmt.version.get() as { v: number }).v);
  }

  async counts(): Promise<StoreCounts> {
    const r = await this.retrying(() => this.stmt.counts.get() as { users: number; movies: number; ratings: number; api: number });
    return { users: r.users, movies: r.movies, ratings: r.ratings, apiRatings: r.api };
  }

  async importMovies(movies: MovieRow[]): Promise<number> {
    await this.retrying(() => this.db.transaction(() => {
      for (const m of movies) this.stmt.upsertMovie.run(String(m.movieId), m.title, packGenres(m.genres), m.year ?? null, m.ratingCount ?? 0, m.meanRating ?? 0, titleSearchKey(m.title));
    }).immediate());
    return movies.length;
  }

  async importRatings(rows: RatingRow[], source: RatingSource = 'train'): Promise<number> {
    const now = Date.now();
    await this.retrying(() => this.db.transaction(() => {
      for (const r of rows) {
        this.stmt.insertUser.run(String(r.userId), now);
        this.stmt.upsertRating.run(String(r.userId), String(r.movieId), r.rating, r.ratedAt ?? now, source);
      }
    }).immediate());
    return rows.length;
  }

  async upsertRating(userId: RawId, movieId: RawId, rating: number, ratedAt = Date.now()): Promise<StoredRating> {
    await this.retrying(() => this.db.transaction(() => {
      if (this.stmt.hasMovie.get(String(movieId)) === undefined) {
        throw new CollabError('UNKNOWN_ITEM', `movie ${JSON.stringify(movieId)} is not in the catalogue; search /api/movies for valid ids`, { field: 'movieId' });
      }
      this.stmt.insertUser.run(String(userId), ratedAt);
      this.stmt.upsertRating.run(String(userId), String(movieId), rating, ratedAt, 'api');
    }).immediate());
    return { userId, movieId, rating, ratedAt, source: 'api' };
  }

  async userRatings(userId: RawId): Promise<StoredRating[]> {
    return (await this.retrying(() => this.stmt.userRatings.all(String(userId)) as RatingDbRow[])).map(ratingFromDb);
  }

  async searchMovies(query: MovieQuery): Promise<{ total: number; movies: MovieRow[] }> {
    const { conditions, params } = movieSearchFilter(query);
    const clause = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const [total, rows] = await this.retrying(() => [
      (this.db.prepare(`SELECT COUNT(*) AS n FROM movies ${clause}`).get(...params) as { n: number }).n,
      this.db
        .prepare(`SELECT id, title, genres, year, rating_count, mean_rating FROM movies ${clause} ORDER BY rating_count DESC, title, id LIMIT ? OFFSET ?`)
        .all(...params, query.limit ?? 20, query.offset ?? 0) as MovieDbRow[],
    ] as const);
    return { total, movies: rows.map(movieFromDb) };
  }

  async ratingsColumns(): Promise<RatingsColumns> {
    const rows = await this.retrying(() => this.stmt.allRatings.all() as [string, string, number, number][]);
    const users: RawId[] = new Array(rows.length);
    const items: RawId[] = new Array(rows.length);
    const ratings = new Float32Array(rows.length);
    const ratedAt = new Float64Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      users[r] = parseRawId(row[0]);
      items[r] = parseRawId(row[1]);
      ratings[r] = row[2];
      ratedAt[r] = row[3];
    }
    return { users, items, ratings, ratedAt };
  }

  async datasetIdentity(): Promise<DatasetIdentity | undefined> {
    const row = this.db.prepare("SELECT value FROM collab_meta WHERE key = 'dataset'").get() as { value: string } | undefined;
    return row ? parseDatasetIdentity(row.value) : undefined;
  }

  async setDatasetIdentity(identity: DatasetIdentity): Promise<void> {
    this.db.prepare("INSERT INTO collab_meta (key, value) VALUES ('dataset', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify(identity));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
