import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';

/** TEST SUPPORT: real databases for the store and API tests (a temp SQLite file; a fresh PostgreSQL schema). */

/** The PostgreSQL server of the tests, from $COLLAB_TEST_PG_URL. */
export const PG_URL = process.env.COLLAB_TEST_PG_URL;

/** The `skip` option of a PostgreSQL test: a reason when no server is configured, else false. */
export const PG_SKIP: string | false =
  PG_URL === undefined || PG_URL === '' ? 'set COLLAB_TEST_PG_URL=postgres://user:pass@host:port/db to run the PostgreSQL tests (.ci/run starts a server and sets it)' : false;

/** A database for one test: how to (re)open it and how to delete it. */
export interface TestDatabase {
  /** 'sqlite' or 'postgres'. */
  kind: 'sqlite' | 'postgres';
  /** The --db value. */
  db: string;
  /** PostgreSQL schema of this test (undefined for SQLite). */
  schema?: string;
  /** Opens (and migrates) the store; may be called again after close to test persistence. */
  open(): Promise<Store>;
  /** Deletes the file or drops the schema. */
  dispose(): Promise<void>;
}

let counter = 0;

/** A fresh SQLite file in a temp folder. */
export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'collab-db-'));
  const db = join(dir, 'collab.sqlite');
  return { kind: 'sqlite', db, open: () => openStore(db), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh schema on the test PostgreSQL server (tests running at once do not see each other). */
export function pgTestDatabase(): TestDatabase {
  if (PG_URL === undefined) throw new Error('COLLAB_TEST_PG_URL is not set');
  const schema = `collab_test_${process.pid}_${Date.now() % 1_000_000}_${counter++}`;
  return {
    kind: 'postgres',
    db: PG_URL,
    schema,
    open: () => openStore(PG_URL, { schema }),
    dispose: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Both kinds, PostgreSQL with its skip reason: `for (const t of testDatabases()) test(name, { skip: t.skip }, ...)`. */
export function testDatabases(): { kind: 'sqlite' | 'postgres'; skip: string | false; make: () => TestDatabase }[] {
  return [
    { kind: 'sqlite', skip: false, make: sqliteTestDatabase },
    { kind: 'postgres', skip: PG_SKIP, make: pgTestDatabase },
  ];
}
