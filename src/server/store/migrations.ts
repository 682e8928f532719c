/**
 * Versioned schema migrations shared by SQLite and PostgreSQL: each is plain SQL valid in both
 * dialects, applied in order inside a transaction and recorded in schema_migrations. Never edit an
 * applied migration; add the next version.
 */

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  /** Statements, run one by one. */
  statements: string[];
}

/** The table that records applied versions (created before anything else). */
export const MIGRATIONS_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, movies, ratings',
    statements: [
      `CREATE TABLE movies (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        genres TEXT NOT NULL DEFAULT '',
        year INTEGER,
        rating_count INTEGER NOT NULL DEFAULT 0,
        mean_rating REAL NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE ratings (
        user_id TEXT NOT NULL REFERENCES users (id),
        movie_id TEXT NOT NULL REFERENCES movies (id),
        rating REAL NOT NULL CHECK (rating >= 0 AND rating <= 10),
        rated_at BIGINT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('train', 'api')),
        PRIMARY KEY (user_id, movie_id)
      )`,
      'CREATE INDEX ratings_movie ON ratings (movie_id)',
      'CREATE INDEX movies_popularity ON movies (rating_count DESC, title)',
    ],
  },
  {
    version: 2,
    name: 'movies.search_title: folded title in both article orders',
    // rows from before this version get their key from the store right after migrating (fillSearchTitles)
    statements: ["ALTER TABLE movies ADD COLUMN search_title TEXT NOT NULL DEFAULT ''"],
  },
  {
    version: 3,
    name: 'collab_meta: which dataset the database holds',
    statements: ['CREATE TABLE collab_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)'],
  },
];
