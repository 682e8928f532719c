import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { buildApp } from '../app.js';
import { catalogueRows } from '../service.js';
import { sqliteTestDatabase } from '../testing/databases.js';
import { makeFactorRecommender } from '../testing/factor-recommender.js';
import { SqliteStore } from './sqlite-store.js';

const rec = makeFactorRecommender({ seed: 3 });
const training = rec.trainingRatings().map((r) => ({ userId: r.userId, movieId: r.itemId, rating: r.rating, ratedAt: 1_000 }));
const webRoot = join(tmpdir(), 'collab-no-web-page');

test('while another connection holds the write lock, reads answer at once and a write is 503 with Retry-After; after release writes succeed', async () => {
  const t = sqliteTestDatabase();
  const store = new SqliteStore(t.db, { lockWaitMs: 1_500 });
  await store.importMovies(catalogueRows(rec));
  await store.importRatings(training);
  const app = await buildApp({ recommender: rec, store, webRoot });
  const other = new Database(t.db);
  try {
    other.exec('BEGIN IMMEDIATE');
    other.prepare("INSERT INTO users (id, created_at) VALUES ('holder', 0)").run();
    let writeAnswered = false;
    const write = app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: 1, rating: 4 } }).then((r) => ((writeAnswered = true), r));
    for (const url of ['/api/genres', '/api/movies?q=toy', '/api/users/5/ratings', '/api/health', '/api/users/5/recommendations']) {
      assert.equal((await app.inject(url)).statusCode, 200, url);
    }
    assert.equal(writeAnswered, false, 'the reads were answered while the write was still waiting for the lock');
    const refused = await write;
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.headers['retry-after'], '2');
    assert.deepEqual(refused.json(), {
      error: { code: 'DATABASE_BUSY', message: 'the SQLite database is locked by another process (a write such as collab db import) for over 1500 ms; nothing was written, retry shortly' },
    });
    other.exec('ROLLBACK');
    const ok = await app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: 1, rating: 4 } });
    assert.equal(ok.statusCode, 201);
    assert.equal((await store.counts()).apiRatings, 1);
  } finally {
    other.close();
    await app.close();
    await t.dispose();
  }
});

test('a write that waits for a lock released in time succeeds', async () => {
  const t = sqliteTestDatabase();
  const store = new SqliteStore(t.db, { lockWaitMs: 5_000 });
  await store.importMovies(catalogueRows(rec));
  const other = new Database(t.db);
  try {
    other.exec('BEGIN IMMEDIATE');
    const write = store.upsertRating(5, 1, 4, 2_000);
    setTimeout(() => other.exec('COMMIT'), 100);
    assert.deepEqual(await write, { userId: 5, movieId: 1, rating: 4, ratedAt: 2_000, source: 'api' });
  } finally {
    other.close();
    await store.close();
    await t.dispose();
  }
});

test('a removed database file: store routes and health answer 503, model-only routes still serve', async () => {
  const t = sqliteTestDatabase();
  const store = new SqliteStore(t.db);
  await store.importMovies(catalogueRows(rec));
  await store.importRatings(training);
  const app = await buildApp({ recommender: rec, store, webRoot });
  try {
    for (const suffix of ['', '-wal', '-shm']) rmSync(t.db + suffix, { force: true });
    const health = await app.inject('/api/health');
    assert.equal(health.statusCode, 503);
    assert.equal(health.headers['retry-after'], '5');
    const gone = 'the SQLite database file was removed or replaced while the server ran; restore it and restart the server';
    assert.deepEqual(health.json(), {
      status: 'unavailable',
      model: { kind: rec.info.kind, nUsers: 30, nItems: 40 },
      db: { kind: 'sqlite', error: { code: 'DATABASE_UNAVAILABLE', message: gone } },
    });
    const write = await app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: 1, rating: 4 } });
    assert.equal(write.statusCode, 503);
    assert.deepEqual(write.json(), { error: { code: 'DATABASE_UNAVAILABLE', message: gone } });
    assert.equal((await app.inject('/api/movies?q=toy')).statusCode, 503);
    for (const url of ['/api/movies/1', '/api/genres', '/api/model', '/api/map?limit=5']) assert.equal((await app.inject(url)).statusCode, 200, url);
    assert.equal((await app.inject({ method: 'POST', url: '/api/recommendations', payload: [{ movieId: 1, rating: 5 }] })).statusCode, 200);
  } finally {
    await app.close();
    await t.dispose();
  }
});

test('an unwritable database: a write answers 503 DATABASE_UNAVAILABLE and writes nothing; reads still serve', async () => {
  const t = sqliteTestDatabase();
  const store = new SqliteStore(t.db);
  await store.importMovies(catalogueRows(rec));
  await store.importRatings(training);
  const app = await buildApp({ recommender: rec, store, webRoot });
  try {
    // root ignores file modes, so the connection is made read-only the way SQLite reports a read-only file
    (store as unknown as { db: Database.Database }).db.pragma('query_only = ON');
    const write = await app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: 1, rating: 4 } });
    assert.equal(write.statusCode, 503);
    assert.equal(write.headers['retry-after'], '5');
    assert.deepEqual(write.json(), { error: { code: 'DATABASE_UNAVAILABLE', message: 'the SQLite database file cannot be used: attempt to write a readonly database' } });
    assert.equal((await store.counts()).apiRatings, 0);
    assert.equal((await app.inject('/api/users/5/ratings')).statusCode, 200);
  } finally {
    await app.close();
    await t.dispose();
  }
});
