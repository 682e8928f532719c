import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { STATUS_OF_CODE } from './errors.js';
import { catalogueRows } from './service.js';
import { startServer } from './start.js';
import { testDatabases, sqliteTestDatabase, type TestDatabase } from './testing/databases.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';
import type { Store } from './store/store.js';
import { MIGRATIONS } from './store/migrations.js';

const rec = makeFactorRecommender({ seed: 3 });
const training = rec.trainingRatings().map((r) => ({ userId: r.userId, movieId: r.itemId, rating: r.rating, ratedAt: 1_000 }));
const TOKEN = 'test-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A fresh database with the catalogue and training ratings, and an app over it. */
async function setup(t: TestDatabase, opts: { token?: string; webRoot?: string } = {}): Promise<{ app: FastifyInstance; store: Store }> {
  const store = await t.open();
  await store.importMovies(catalogueRows(rec));
  await store.importRatings(training);
  const app = await buildApp({ recommender: rec, store, webRoot: opts.webRoot ?? join(tmpdir(), 'collab-no-web-page'), ...(opts.token ? { token: opts.token } : {}) });
  return { app, store };
}

/** Everything the database holds, to compare before and after a refused request. */
async function snapshot(store: Store): Promise<unknown> {
  const cols = await store.ratingsColumns();
  return { counts: await store.counts(), users: cols.users, items: cols.items, ratings: [...cols.ratings], at: [...cols.ratedAt] };
}

test('every error code has a status; user and item lookups are 404, bad input 400', () => {
  assert.equal(STATUS_OF_CODE.UNKNOWN_USER, 404);
  assert.equal(STATUS_OF_CODE.UNKNOWN_ITEM, 404);
  assert.equal(STATUS_OF_CODE.INVALID_OPTION, 400);
  assert.equal(STATUS_OF_CODE.BAD_ROW, 400);
  assert.equal(STATUS_OF_CODE.BAD_MODEL, 500);
});

describe('read endpoints (SQLite)', () => {
  const t = sqliteTestDatabase();
  let app: FastifyInstance;
  before(async () => {
    ({ app } = await setup(t));
  });
  after(async () => {
    await app.close();
    await t.dispose();
  });

  test('GET /api/health summarises model and database', async () => {
    const r = await app.inject('/api/health');
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), {
      status: 'ok',
      model: { kind: rec.info.kind, nUsers: 30, nItems: 40 },
      db: { kind: 'sqlite', schemaVersion: MIGRATIONS.at(-1)!.version, users: 30, movies: 40, ratings: training.length, apiRatings: 0 },
    });
  });

  test('GET /api/movies searches titles, filters genres, pages', async () => {
    const r = (await app.inject('/api/movies?q=toy%20story')).json();
    assert.equal(r.total, 2);
    assert.deepEqual(r.movies.map((m: { title: string }) => m.title).sort(), ['Toy Story (1995)', 'Toy Story 2 (1999)']);
    const anim = (await app.inject('/api/movies?genre=animation&limit=3&offset=1')).json();
    assert.equal(anim.total, 9);
    assert.equal(anim.movies.length, 3);
    assert.equal(anim.limit, 3);
    assert.ok(anim.movies.every((m: { genres: string[] }) => m.genres.includes('Animation')));
    const bad = await app.inject('/api/movies?limit=500');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json(), { error: { code: 'BAD_REQUEST', message: 'query.limit must be <= 100', field: 'query.limit' } });
  });

  test('GET /api/movies/:id gives details and similar movies; unknown 404, non-numeric 400', async () => {
    const r = (await app.inject('/api/movies/1?n=5')).json();
    assert.equal(r.movie.title, 'Toy Story (1995)');
    assert.equal(r.similar.length, 5);
    assert.deepEqual(r.similar, rec.similarItems(1, 5).map((s) => ({ movieId: s.itemId, title: s.title, genres: s.genres, year: s.year, score: s.score })));
    const unknown = await app.inject('/api/movies/999');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json().error, { code: 'UNKNOWN_ITEM', message: 'movie 999 is not in the model\'s catalogue; search /api/movies for valid ids', field: 'id' });
    const nan = await app.inject('/api/movies/toy');
    assert.equal(nan.statusCode, 400);
    assert.deepEqual(nan.json(), { error: { code: 'BAD_REQUEST', message: 'params.id must be integer', field: 'params.id' } });
  });

  test('GET /api/users/:id/recommendations: trained vector with because-you-liked; genre filter; unknown user 404', async () => {
    const r = (await app.inject('/api/users/4/recommendations?n=5')).json();
    assert.equal(r.method, 'model');
    assert.equal(r.userId, 4);
    const expected = rec.recommendForUser(4, { n: 5, explain: true });
    assert.deepEqual(r.items.map((i: { movieId: number }) => i.movieId), expected.map((i) => i.itemId));
    assert.ok(r.items.some((i: { because?: unknown[] }) => (i.because ?? []).length > 0), 'some reason is given');
    const comedy = (await app.inject('/api/users/4/recommendations?n=3&genre=Comedy')).json();
    assert.ok(comedy.items.every((i: { genres: string[] }) => i.genres.includes('Comedy')));
    const unknown = await app.inject('/api/users/4242/recommendations');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'UNKNOWN_USER');
    assert.equal(unknown.json().error.message, 'user 4242 is not in the model and has no ratings in the database; POST /api/users/4242/ratings first, or use POST /api/recommendations');
  });

  test('POST /api/recommendations folds in an anonymous visitor; bad bodies are 400/404 naming the field', async () => {
    const body = [{ movieId: 1, rating: 5 }, { movieId: 3114, rating: 4.5 }, { movieId: 318, rating: 1 }];
    const r = await app.inject({ method: 'POST', url: '/api/recommendations?n=4', payload: body });
    assert.equal(r.statusCode, 200);
    const j = r.json();
    assert.equal(j.method, 'fold-in');
    assert.equal(j.ratingsUsed, 3);
    const expected = rec.recommendForRatings(body.map((b) => ({ itemId: b.movieId, rating: b.rating })), { n: 4 });
    assert.deepEqual(j.items.map((i: { movieId: number }) => i.movieId), expected.map((i) => i.itemId));
    assert.ok(j.items.every((i: { movieId: number }) => ![1, 3114, 318].includes(i.movieId)), 'rated movies are not recommended');
    const cases: [unknown, number, string, string][] = [
      [[], 400, 'body', 'body must NOT have fewer than 1 items'],
      [[{ movieId: 1, rating: 7 }], 400, 'body[0].rating', 'body[0].rating must be <= 5'],
      [[{ movieId: 1, rating: 4.25 }], 400, 'body[0].rating', 'body[0].rating must be multiple of 0.5'],
      [[{ movieId: 1 }], 400, 'body[0].rating', 'body[0].rating is required'],
      [[{ movieId: 1, rating: 4, extra: 1 }], 400, 'body[0].extra', 'body[0].extra is not an accepted field'],
      [[{ movieId: 999, rating: 4 }], 404, 'body[0].movieId', 'movie 999 (position 0) is not in the model\'s catalogue; search /api/movies for valid ids'],
      [[{ movieId: 1, rating: 4 }, { movieId: 1, rating: 3 }], 400, 'body[1].movieId', 'movie 1 is rated twice (again at position 1); send each movie once'],
    ];
    for (const [payload, status, field, message] of cases) {
      const bad = await app.inject({ method: 'POST', url: '/api/recommendations', payload: payload as object });
      assert.equal(bad.statusCode, status, JSON.stringify(payload));
      assert.equal(bad.json().error.field, field);
      assert.equal(bad.json().error.message, message);
    }
    const notJson = await app.inject({ method: 'POST', url: '/api/recommendations', payload: '{oops', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json().error.code, 'BAD_REQUEST');
  });

  test('GET /api/model and GET /api/map', async () => {
    const m = (await app.inject('/api/model')).json();
    assert.equal(m.kind, rec.info.kind);
    assert.equal(m.scoreKind, 'rating');
    assert.deepEqual(m.history, rec.info.history);
    assert.deepEqual(m.config, rec.info.config);
    const map = (await app.inject('/api/map?limit=10')).json();
    assert.equal(map.points.length, 10);
    assert.deepEqual(map.points[0], { ...rec.movieMap(10).map(({ itemId, ...p }) => ({ movieId: itemId, ...p }))[0] });
  });

  test('OpenAPI lists every endpoint; errors are JSON without stacks; security headers are set', async () => {
    const doc = (await app.inject('/api/openapi.json')).json();
    assert.equal(doc.openapi.slice(0, 2), '3.');
    for (const path of ['/api/health', '/api/movies', '/api/movies/{id}', '/api/users/{id}/recommendations', '/api/recommendations', '/api/users/{id}/ratings', '/api/model', '/api/map']) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    const r = await app.inject('/api/nowhere');
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { error: { code: 'NOT_FOUND', message: 'no route GET /api/nowhere; see /api/openapi.json' } });
    const h = r.headers;
    assert.match(String(h['content-security-policy']), /default-src 'self'/);
    assert.match(String(h['content-security-policy']), /script-src 'self'(;|$)/);
    assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.ok(h['strict-transport-security']);
    assert.equal(h['x-powered-by'], undefined);
  });
});

describe('static web page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-web-'));
  const webRoot = join(dir, 'web');
  const t = sqliteTestDatabase();
  let app: FastifyInstance;
  before(async () => {
    mkdirSync(join(webRoot, 'assets'), { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>collab</title>');
    writeFileSync(join(webRoot, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'SECRET');
    ({ app } = await setup(t, { webRoot }));
  });
  after(async () => {
    await app.close();
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves the page and hashed assets (immutable), never files outside its folder', async () => {
    const page = await app.inject('/');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<title>collab<\/title>/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    const asset = await app.inject('/assets/app-1234.js');
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/.%2e/.%2e/secret.txt']) {
      const r = await app.inject(url);
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${url} -> ${r.statusCode}`);
      assert.doesNotMatch(r.body, /SECRET/);
    }
  });
});

for (const kind of testDatabases()) {
  describe(`writes (${kind.kind})`, { skip: kind.skip }, () => {
    test('a stored rating changes the next recommendations at once; GET ratings lists it', async () => {
      const t = kind.make();
      const { app } = await setup(t);
      try {
        const before = (await app.inject('/api/users/5/recommendations?n=5')).json();
        assert.equal(before.method, 'model');
        const top = before.items[0].movieId;
        const w = await app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: top, rating: 0.5 } });
        assert.equal(w.statusCode, 201);
        assert.equal(w.json().rating.source, 'api');
        const afterRating = (await app.inject('/api/users/5/recommendations?n=5')).json();
        assert.equal(afterRating.method, 'fold-in');
        assert.equal(afterRating.ratingsUsed, training.filter((r) => r.userId === 5).length + 1);
        assert.ok(!afterRating.items.some((i: { movieId: number }) => i.movieId === top), 'the rated movie is no longer recommended');
        const mine = (await app.inject('/api/users/5/ratings')).json();
        assert.deepEqual(mine.ratings[0], { userId: 5, movieId: top, title: rec.movie(top)!.title, rating: 0.5, ratedAt: w.json().rating.ratedAt, source: 'api' });
        // a brand-new user gets fold-in recommendations after one rating
        await app.inject({ method: 'POST', url: '/api/users/777/ratings', payload: { movieId: 1, rating: 5 } });
        const fresh = (await app.inject('/api/users/777/recommendations?n=3')).json();
        assert.equal(fresh.method, 'fold-in');
        assert.equal(fresh.items.length, 3);
      } finally {
        await app.close();
        await t.dispose();
      }
    });

    test('bad writes get the right 4xx JSON error and write nothing', async () => {
      const t = kind.make();
      const { app, store } = await setup(t, { token: TOKEN });
      try {
        const start = await snapshot(store);
        const cases: [string, Record<string, string>, unknown, number, string][] = [
          ['/api/users/abc/ratings', auth, { movieId: 1, rating: 4 }, 400, 'params.id'],
          ['/api/users/5/ratings', auth, { movieId: 1, rating: 7 }, 400, 'body.rating'],
          ['/api/users/5/ratings', auth, { movieId: 'x', rating: 4 }, 400, 'body.movieId'],
          ['/api/users/5/ratings', auth, { movieId: 999, rating: 4 }, 404, 'body.movieId'],
          ['/api/users/5/ratings', {}, { movieId: 1, rating: 4 }, 401, 'authorization'],
          ['/api/users/5/ratings', { authorization: 'Bearer wrong-token' }, { movieId: 1, rating: 4 }, 403, 'authorization'],
          ['/api/users/5/ratings', { authorization: 'Basic dXNlcjpwYXNz' }, { movieId: 1, rating: 4 }, 401, 'authorization'],
        ];
        for (const [url, headers, payload, status, field] of cases) {
          const r = await app.inject({ method: 'POST', url, headers, payload: payload as object });
          assert.equal(r.statusCode, status, `${url} ${JSON.stringify(payload)}: ${r.body}`);
          assert.equal(r.json().error.field, field);
          assert.equal(typeof r.json().error.message, 'string');
          assert.doesNotMatch(r.body, /at .*\.js:\d+/, 'no stack trace');
        }
        const big = await app.inject({ method: 'POST', url: '/api/users/5/ratings', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"movieId":1,"rating":4,"pad":"${'x'.repeat(10 * 1024 * 1024)}"}` });
        assert.equal(big.statusCode, 413);
        assert.deepEqual(big.json(), { error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the 65536-byte limit; send fewer ratings per request', field: 'body' } });
        assert.equal((await app.inject({ method: 'POST', url: '/api/users/5/ratings', payload: { movieId: 1, rating: 4 } })).headers['www-authenticate'], 'Bearer');
        assert.deepEqual(await snapshot(store), start, 'nothing was written');
        const ok = await app.inject({ method: 'POST', url: '/api/users/5/ratings', headers: auth, payload: { movieId: 1, rating: 4 } });
        assert.equal(ok.statusCode, 201);
        assert.notDeepEqual(await snapshot(store), start);
      } finally {
        await app.close();
        await t.dispose();
      }
    });

    test('ratings survive a server restart', async () => {
      const t = kind.make();
      const common = { recommender: rec, db: t.db, port: 0, token: TOKEN, initialRatings: () => training, ...(t.schema ? { pgSchema: t.schema } : {}) };
      try {
        let server = await startServer(common);
        const w = await fetch(`${server.url}/api/users/900/ratings`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ movieId: 260, rating: 4.5 }) });
        assert.equal(w.status, 201);
        const recsBefore = await (await fetch(`${server.url}/api/users/900/recommendations?n=5`)).json();
        await server.close();
        server = await startServer(common);
        try {
          const health = (await (await fetch(`${server.url}/api/health`)).json()) as { db: { ratings: number } };
          assert.equal(health.db.ratings, training.length + 1, 'training ratings imported once, not again');
          const mine = (await (await fetch(`${server.url}/api/users/900/ratings`)).json()) as { ratings: { movieId: number; rating: number }[] };
          assert.deepEqual(mine.ratings.map((r: { movieId: number; rating: number }) => [r.movieId, r.rating]), [[260, 4.5]]);
          assert.deepEqual(await (await fetch(`${server.url}/api/users/900/recommendations?n=5`)).json(), recsBefore);
        } finally {
          await server.close();
        }
      } finally {
        await t.dispose();
      }
    });
  });
}

test('an unexpected failure is a bare 500: no message, no stack', async () => {
  const t = sqliteTestDatabase();
  const store = await t.open();
  const broken = { ...rec, movieMap: () => { throw new Error('secret internal detail at /srv/x.js:1'); } };
  const app = await buildApp({ recommender: broken, store, webRoot: join(tmpdir(), 'collab-no-web-page') });
  try {
    const r = await app.inject('/api/map');
    assert.equal(r.statusCode, 500);
    assert.deepEqual(r.json(), { error: { code: 'INTERNAL', message: 'internal server error; the server log has the details' } });
  } finally {
    await app.close();
    await t.dispose();
  }
});
