import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { catalogueRows } from '../service.js';
import { makeFactorRecommender } from '../testing/factor-recommender.js';
import { PG_CLUSTER_SKIP, PgCluster } from '../testing/pg-cluster.js';
import { isUnavailable, PgStore } from './pg-store.js';

const rec = makeFactorRecommender({ seed: 3 });
const training = rec.trainingRatings().map((r) => ({ userId: r.userId, movieId: r.itemId, rating: r.rating, ratedAt: 1_000 }));

test('server-down failures are told apart from bad queries', () => {
  assert.equal(isUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
  assert.equal(isUnavailable(new Error('timeout exceeded when trying to connect')), true);
  assert.equal(isUnavailable(new Error('Query read timeout')), true);
  assert.equal(isUnavailable(Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })), false);
  assert.equal(isUnavailable(undefined), false);
});

if (PG_CLUSTER_SKIP) console.log(`# ${PG_CLUSTER_SKIP}`);

describe('PostgreSQL stopped or frozen under the service', { skip: PG_CLUSTER_SKIP }, () => {
  let cluster: PgCluster;
  let app: FastifyInstance;
  before(async () => {
    cluster = await PgCluster.start();
    const store = await PgStore.open(cluster.url, { connectTimeoutMs: 500, queryTimeoutMs: 1_000, statementTimeoutMs: 1_000 });
    await store.importMovies(catalogueRows(rec));
    await store.importRatings(training);
    app = await buildApp({ recommender: rec, store, webRoot: join(tmpdir(), 'collab-no-web-page'), limits: { healthTimeoutMs: 1_500 } });
  });
  after(async () => {
    await app?.close();
    await cluster?.dispose();
  });

  /** Store routes answer 503 DATABASE_UNAVAILABLE with Retry-After; model-only routes answer 200. */
  async function assertDegraded(): Promise<void> {
    const health = await app.inject('/api/health');
    assert.equal(health.statusCode, 503);
    assert.equal(health.headers['retry-after'] !== undefined, true);
    assert.equal(health.json().status, 'unavailable');
    assert.equal(health.json().db.error.code, 'DATABASE_UNAVAILABLE');
    const store = [
      { method: 'POST' as const, url: '/api/users/5/ratings', payload: { movieId: 1, rating: 4 } },
      { method: 'GET' as const, url: '/api/users/5/ratings' },
      { method: 'GET' as const, url: '/api/movies?q=toy' },
      { method: 'GET' as const, url: '/api/users/5/recommendations' },
    ];
    for (const req of store) {
      const r = await app.inject(req);
      assert.equal(r.statusCode, 503, `${req.method} ${req.url}: ${r.body}`);
      assert.equal(r.headers['retry-after'], '2');
      assert.equal(r.json().error.code, 'DATABASE_UNAVAILABLE');
      assert.match(r.json().error.message, /^the PostgreSQL database is not answering \(.+\); nothing was written, retry shortly$/);
    }
    for (const url of ['/api/movies/1', '/api/genres', '/api/model', '/api/map?limit=5']) assert.equal((await app.inject(url)).statusCode, 200, url);
    assert.equal((await app.inject({ method: 'POST', url: '/api/recommendations', payload: [{ movieId: 1, rating: 5 }] })).statusCode, 200);
  }

  /** Health is back and a write is stored, with no restart of the service. */
  async function assertRecovered(rating: number): Promise<void> {
    let health = await app.inject('/api/health');
    // the first request after the server returns may still meet a connection the pool had not dropped
    for (let attempt = 0; attempt < 20 && health.statusCode !== 200; attempt++) {
      await new Promise((r) => setTimeout(r, 250));
      health = await app.inject('/api/health');
    }
    assert.equal(health.statusCode, 200);
    const w = await app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: 1, rating } });
    assert.equal(w.statusCode, 201, w.body);
    const mine = (await app.inject('/api/users/5/ratings')).json();
    assert.equal(mine.ratings[0].rating, rating);
  }

  test('the database is up: everything answers', async () => {
    assert.equal((await app.inject('/api/health')).statusCode, 200);
  });

  test('stopped: 503 DATABASE_UNAVAILABLE with Retry-After, model-only routes serve; it recovers on its own', async () => {
    await cluster.stop();
    await assertDegraded();
    await cluster.restart();
    await assertRecovered(3.5);
  });

  test('frozen (SIGSTOP): requests end in 503 instead of hanging; it recovers on its own after SIGCONT', { timeout: 60_000 }, async () => {
    cluster.freeze();
    try {
      await assertDegraded();
    } finally {
      cluster.thaw();
    }
    await assertRecovered(2.5);
  });
});
