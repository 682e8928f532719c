import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from './app.js';
import { catalogueRows } from './service.js';
import { PG_SKIP, pgTestDatabase, sqliteTestDatabase } from './testing/databases.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';

const rec = makeFactorRecommender({ seed: 5 });

test('GET /api/metrics: Prometheus text with requests and latency per route pattern, model version, draining', async () => {
  const db = sqliteTestDatabase();
  const store = await db.open();
  await store.importMovies(catalogueRows(rec));
  const app = await buildApp({ recommender: rec, store, webRoot: join(tmpdir(), 'collab-no-web-page') });
  try {
    assert.equal((await app.inject('/api/movies/1')).statusCode, 200);
    assert.equal((await app.inject('/api/movies/2')).statusCode, 200);
    assert.equal((await app.inject('/api/movies/999999')).statusCode, 404);
    app.drain();
    const r = await app.inject('/api/metrics');
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = r.body;
    assert.match(text, /^collab_http_requests_total\{method="GET",route="\/api\/movies\/:id",status="200"\} 2$/m);
    assert.match(text, /^collab_http_requests_total\{method="GET",route="\/api\/movies\/:id",status="404"\} 1$/m);
    assert.match(text, /^collab_http_request_duration_seconds_count\{method="GET",route="\/api\/movies\/:id"\} 3$/m);
    assert.match(text, /^collab_http_request_duration_seconds_bucket\{le="0\.01",method="GET",route="\/api\/movies\/:id"\} \d+$/m);
    assert.ok(text.split('\n').includes(`collab_model_info{kind="${rec.info.kind}",sha256="unknown"} 1`), 'model version line');
    assert.match(text, /^collab_model_loaded_timestamp_seconds \d+(\.\d+)?$/m);
    assert.match(text, /^collab_draining 1$/m);
    assert.doesNotMatch(text, /collab_db_pool_connections\{/, 'SQLite has no pool');
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
  } finally {
    await app.close();
    await db.dispose();
  }
});

test('GET /api/metrics over PostgreSQL reports the connection pool', { skip: PG_SKIP }, async () => {
  const db = pgTestDatabase();
  const store = await db.open();
  await store.importMovies(catalogueRows(rec));
  const app = await buildApp({ recommender: rec, store, webRoot: join(tmpdir(), 'collab-no-web-page') });
  try {
    const text = (await app.inject('/api/metrics')).body;
    assert.match(text, /^collab_db_pool_connections\{state="total"\} \d+$/m);
    assert.match(text, /^collab_db_pool_connections\{state="idle"\} \d+$/m);
    assert.match(text, /^collab_db_pool_connections\{state="waiting"\} 0$/m);
  } finally {
    await app.close();
    await db.dispose();
  }
});
