import { PgStore, type PgStoreOptions } from './pg-store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { Store } from './store.js';

/** Whether a --db value names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** Opens and migrates the store a --db value names: a postgres:// URL or a SQLite file path. */
export async function openStore(db: string, options: PgStoreOptions & SqliteStoreOptions = {}): Promise<Store> {
  return isPostgresUrl(db) ? PgStore.open(db, options) : new SqliteStore(db, options);
}
