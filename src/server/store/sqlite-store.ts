import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CollabError } from '../../core/errors.js';
import { parseRawId, type RawId } from '../../data/id-map.js';
import type { DatasetIdentity } from '../../data/identity.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { parseDatasetIdentity } from './store.js';
import {
  likePattern,
  movieFromDb,
  packGenres,
  ratingFromDb,
  type MovieQuery,
  type MovieRow,
  type RatingRow,
  type RatingSource,
  type RatingsColumns,
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
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}

/** Every fixed statement of the store, prepared once. */
function prepareAll(db: Database.Database) {
  return {
    version: db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'),
    counts: db.prepare(
      "SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM movies) AS movies, (SELECT COUNT(*) FROM ratings) AS ratings, (SELECT COUNT(*) FROM ratings WHERE source = 'api') AS api",
    ),
    upsertMovie: db.prepare(
      `INSERT INTO movies (id, title, genres, year, rating_count, mean_rating) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, genres = excluded.genres, year = excluded.year,
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

/** The SQLite store: one file in WAL mode, created and migrated on open. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<typeof prepareAll>;

  /** Opens (creating folders and file as needed) and migrates `file`. */
  constructor(file: string) {
    this.location = resolve(file);
    mkdirSync(dirname(this.location), { recursive: true });
    try {
      this.db = new Database(this.location);
    } catch (err) {
      throw new CollabError('BAD_FILE', `cannot open SQLite database: ${(err as Error).message}; check the --db path`, { file: this.location }, { cause: err });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.stmt = prepareAll(this.db);
  }

  async schemaVersion(): Promise<number> {
    return (this.stmt.version.get() as { v: number }).v;
  }

  async counts(): Promise<StoreCounts> {
    const r = this.stmt.counts.get() as { users: number; movies: number; ratings: number; api: number };
    return { users: r.users, movies: r.movies, ratings: r.ratings, apiRatings: r.api };
  }

  async importMovies(movies: MovieRow[]): Promise<number> {
    this.db.transaction(() => {
      for (const m of movies) this.stmt.upsertMovie.run(String(m.movieId), m.title, packGenres(m.genres), m.year ?? null, m.ratingCount ?? 0, m.meanRating ?? 0);
    }).immediate();
    return movies.length;
  }

  async importRatings(rows: RatingRow[], source: RatingSource = 'train'): Promise<number> {
    const now = Date.now();
    this.db.transaction(() => {
      for (const r of rows) {
        this.stmt.insertUser.run(String(r.userId), now);
        this.stmt.upsertRating.run(String(r.userId), String(r.movieId), r.rating, r.ratedAt ?? now, source);
      }
    }).immediate();
    return rows.length;
  }

  async upsertRating(userId: RawId, movieId: RawId, rating: number, ratedAt = Date.now()): Promise<StoredRating> {
    this.db.transaction(() => {
      if (this.stmt.hasMovie.get(String(movieId)) === undefined) {
        throw new CollabError('UNKNOWN_ITEM', `movie ${JSON.stringify(movieId)} is not in the catalogue; search /api/movies for valid ids`, { field: 'movieId' });
      }
      this.stmt.insertUser.run(String(userId), ratedAt);
      this.stmt.upsertRating.run(String(userId), String(movieId), rating, ratedAt, 'api');
    }).immediate();
    return { userId, movieId, rating, ratedAt, source: 'api' };
  }

  async userRatings(userId: RawId): Promise<StoredRating[]> {
    return (this.stmt.userRatings.all(String(userId)) as RatingDbRow[]).map(ratingFromDb);
  }

  async searchMovies(query: MovieQuery): Promise<{ total: number; movies: MovieRow[] }> {
    const where: string[] = [];
    const params: string[] = [];
    if (query.q !== undefined && query.q !== '') {
      where.push("LOWER(title) LIKE ? ESCAPE '\\'");
      params.push(likePattern(query.q));
    }
    if (query.genre !== undefined && query.genre !== '') {
      where.push("LOWER(genres) LIKE ? ESCAPE '\\'");
      params.push(likePattern(`|${query.genre}|`));
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM movies ${clause}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT id, title, genres, year, rating_count, mean_rating FROM movies ${clause} ORDER BY rating_count DESC, title, id LIMIT ? OFFSET ?`)
      .all(...params, query.limit ?? 20, query.offset ?? 0) as MovieDbRow[];
    return { total, movies: rows.map(movieFromDb) };
  }

  async ratingsColumns(): Promise<RatingsColumns> {
    const rows = this.stmt.allRatings.all() as [string, string, number, number][];
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
