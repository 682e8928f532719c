import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { loadIalsModel, saveIalsModel, type TrainedIals } from '../io/ials-model.js';
import { manifestDigest, type ModelManifest } from '../io/model-file.js';
import { loadTrainedModel } from '../io/trained-model.js';
import { fitIals } from '../models/ials.js';
import { buildApp } from '../server/app.js';
import { catalogueRows } from '../server/service.js';
import { sqliteTestDatabase } from '../server/testing/databases.js';
import { implicitBoard, runCli } from '../testing/fixtures.js';
import { ialsRecommender } from './ials-recommender.js';
import { ImplicitRecommender } from './implicit-recommender.js';
import { loadRecommender } from './load.js';

// two blocks are a rank-2 structure (more factors also fit which own-half movies each user skipped)
const OPTIONS = { factors: 2, iterations: 10, threads: 1 } as const;

async function fitted(): Promise<TrainedIals> {
  const { ratings, items } = implicitBoard();
  return { model: await fitIals(ratings.users, ratings.items, ratings.userIds.size, ratings.itemIds.size, OPTIONS), train: ratings, items };
}

const firstHalf = (id: unknown): boolean => typeof id === 'number' && id >= 101 && id <= 115;

function withDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'collab-ials-'));
  return Promise.resolve(body(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('an iALS model file round-trips: factors, config, ids, ratings, titles and scores bit for bit', () =>
  withDir(async (dir) => {
    const trained = await fitted();
    const path = join(dir, 'ials.json');
    const manifest = saveIalsModel(path, trained);
    assert.equal(manifest.kind, 'ials');
    assert.deepEqual(manifest.config, trained.model.config);
    assert.deepEqual(manifest.weights.tables.map((t) => [t.name, t.rows, t.cols]), [
      ['user.factors', 40, 2],
      ['item.factors', 30, 2],
      ['data.users', trained.train.ratings.length, 1],
      ['data.items', trained.train.ratings.length, 1],
      ['data.ratings', trained.train.ratings.length, 1],
    ]);
    const back = loadIalsModel(path);
    assert.deepEqual(back.model.config, trained.model.config);
    assert.deepEqual(back.model.userFactors, trained.model.userFactors);
    assert.deepEqual(back.model.itemFactors, trained.model.itemFactors);
    assert.deepEqual(back.train.users, trained.train.users);
    assert.deepEqual(back.train.items, trained.train.items);
    assert.deepEqual(back.train.itemIds.ids(), trained.train.itemIds.ids());
    assert.deepEqual(back.items.get(101), { title: 'Movie 101 (1990)', genres: ['Comedy'], year: 1990 });
    for (let u = 0; u < 40; u++) assert.deepEqual(back.model.scoreUser(u), trained.model.scoreUser(u));
    const h = Int32Array.of(0, 1, 2);
    assert.deepEqual(back.model.scoreItems(h), trained.model.scoreItems(h));
  }));

test('iALS file errors: a rating-model loader refuses it, a damaged config or missing table is named', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ials.json');
    const trained = await fitted();
    saveIalsModel(path, trained);
    assert.throws(() => loadTrainedModel(path), {
      message: `${path}: this is an iALS ranking model (collab rank --model ials --out), which predicts no ratings; use it with collab recommend, similar or serve, or train a rating model with collab train`,
    });
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
    // re-signed, so the checks past the manifest checksum are the ones tested
    const resigned = (m: ModelManifest): string => JSON.stringify({ ...m, manifestSha256: manifestDigest(m) });
    writeFileSync(path, resigned({ ...manifest, config: { ...manifest.config, factors: 0 } }));
    assert.throws(() => loadIalsModel(path), {
      message: `${path}: the iALS config is damaged (factors must be an integer from 1 to 4096, got 0); re-save it with collab rank --model ials --out`,
    });
    const tables = manifest.weights.tables.map((t) => (t.name === 'item.factors' ? { ...t, name: 'other' } : t));
    writeFileSync(path, resigned({ ...manifest, weights: { ...manifest.weights, tables } }));
    assert.throws(() => loadIalsModel(path), {
      message: `${path}: the weights need tables "user.factors" (40x2) and "item.factors" (30x2) for an iALS model; re-save it with collab rank --model ials --out`,
    });
    const t = trained.train;
    const mismatched = { ...trained, model: await fitIals(t.users, t.items, t.userIds.size, 31, OPTIONS) };
    assert.throws(() => saveIalsModel(join(dir, 'bad.json'), mismatched), {
      message: 'the iALS model covers 40 users × 31 items but the training ratings have 40 × 30; save it with the ratings it was fitted on',
    });
  }));

test('the shared recommender over iALS: own-half movies, fold-in visitors, reasons, similar movies, the map', async () => {
  const rec = ialsRecommender(await fitted(), { minRatings: 0 });
  assert.equal(rec.info.kind, 'ials');
  assert.equal(rec.info.scoreKind, 'ials');
  const seen = new Set(rec.userRatings(1).map((r) => r.itemId));
  const top = rec.recommendForUser(1, { n: 3, explain: true });
  for (const it of top) {
    assert.ok(firstHalf(it.itemId) && !seen.has(it.itemId), `user 1 got movie ${it.itemId}`);
    assert.ok(it.because!.length > 0 && it.because!.length <= 3);
    for (const b of it.because!) assert.ok(seen.has(b.itemId) && b.similarity > 0 && b.rating === 5);
  }
  const visitor = rec.recommendForRatings([{ itemId: 120, rating: 5 }, { itemId: 121, rating: 5 }], { n: 3, explain: true });
  for (const it of visitor) {
    assert.ok(!firstHalf(it.itemId) && it.itemId !== 120 && it.itemId !== 121);
    assert.ok(it.because!.every((b) => b.itemId === 120 || b.itemId === 121));
  }
  for (const it of rec.similarItems(101, 3, 0)) assert.ok(firstHalf(it.itemId) && it.itemId !== 101);
  const map = rec.movieMap(10);
  assert.equal(map.length, 10);
  assert.ok(map.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  assert.throws(() => rec.recommendForRatings([]), { message: 'iALS needs at least one movie the user has seen; give a few ratings' });
});

test('collab rank --model ials --out saves iALS; recommend (a user, a visitor), similar and loadRecommender use it', () =>
  withDir(async (dir) => {
    const { ratings } = implicitBoard();
    const lines = ['userId,movieId,rating,timestamp'];
    for (let r = 0; r < ratings.ratings.length; r++) lines.push(`${ratings.userIds.idOf(ratings.users[r]!)},${ratings.itemIds.idOf(ratings.items[r]!)},5,0`);
    const data = join(dir, 'ratings.csv');
    writeFileSync(data, `${lines.join('\n')}\n`);
    const model = join(dir, 'next.json');
    const rank = runCli(['rank', '--data', data, '--model', 'ials', '--factors', '2', '--iterations', '10', '--out', model, '--json']);
    assert.equal(rank.status, 0, rank.stderr);
    assert.equal(rank.json?.model, 'ials');
    assert.equal(rank.json?.factors, 2);
    assert.match(rank.stderr, /iALS \(2 factors, 10 iterations, alpha [\d.]+, reg [\d.]+\) trained in/);
    assert.equal((rank.json?.saved as { ratings: number }).ratings, ratings.ratings.length);
    const rec = loadRecommender(model);
    assert.ok(rec instanceof ImplicitRecommender);
    assert.equal(rec.info.kind, 'ials');
    const r = runCli(['recommend', '--model', model, '--user', '1', '--min-ratings', '0', '-n', '3', '--explain', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json?.scoreKind, 'ials');
    assert.match(r.stderr, /because you watched: /);
    const items = r.json?.items as { itemId: number }[];
    assert.deepEqual(items, JSON.parse(JSON.stringify(rec.recommendForUser(1, { n: 3, minRatings: 0, explain: true }))));
    for (const it of items) assert.ok(firstHalf(it.itemId));
    const v = runCli(['recommend', '--model', model, '--ratings', '120:5,121:5', '--min-ratings', '0', '-n', '3', '--json']);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stderr, /as the watch history/);
    for (const it of v.json?.items as { itemId: number }[]) assert.ok(!firstHalf(it.itemId));
    const sim = runCli(['similar', '--model', model, '--item', '101', '--min-ratings', '0', '-n', '3', '--json']);
    assert.equal(sim.status, 0, sim.stderr);
    assert.equal(sim.json?.scoreKind, 'cosine');
    for (const it of sim.json?.items as { itemId: number }[]) assert.ok(firstHalf(it.itemId));
    const bad = runCli(['rank', '--data', data, '--model', 'ials', '--factors', '0']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim(), 'collab: error: --factors must be an integer from 1 to 4096, got 0');
  }));

test('the app serves an iALS model: a user\'s recommendations, a visitor\'s, a movie\'s neighbours, /api/model', async () => {
  const trained = await fitted();
  const rec = ialsRecommender(trained, { minRatings: 0, similarMinRatings: 0 });
  const db = sqliteTestDatabase();
  const store = await db.open();
  await store.importMovies(catalogueRows(rec));
  const app = await buildApp({ recommender: rec, store, webRoot: join(tmpdir(), 'collab-no-web-page') });
  try {
    const model = await app.inject('/api/model');
    assert.equal(model.statusCode, 200);
    assert.equal(model.json().kind, 'ials');
    assert.equal(model.json().scoreKind, 'ials');
    const user = await app.inject('/api/users/1/recommendations?n=3');
    assert.equal(user.statusCode, 200, user.body);
    const body = user.json() as { method: string; items: { movieId: number; because: { movieId: number }[] }[] };
    assert.equal(body.method, 'model');
    assert.equal(body.items.length, 3);
    for (const it of body.items) {
      assert.ok(firstHalf(it.movieId), `user 1 got movie ${it.movieId}`);
      assert.ok(it.because.length > 0 && it.because.every((b) => firstHalf(b.movieId)));
    }
    const visitor = await app.inject({ method: 'POST', url: '/api/recommendations?n=3', payload: [{ movieId: 120, rating: 5 }, { movieId: 121, rating: 5 }] });
    assert.equal(visitor.statusCode, 200, visitor.body);
    const v = visitor.json() as { method: string; items: { movieId: number }[] };
    assert.equal(v.items.length, 3);
    for (const it of v.items) assert.ok(!firstHalf(it.movieId), `the visitor got movie ${it.movieId}`);
    const movie = await app.inject('/api/movies/101');
    assert.equal(movie.statusCode, 200, movie.body);
    const similar = (movie.json() as { similar: { movieId: number }[] }).similar;
    assert.ok(similar.length > 0 && similar.every((m) => firstHalf(m.movieId)));
    const map = await app.inject('/api/map');
    assert.equal(map.statusCode, 200, map.body);
  } finally {
    await app.close();
    await db.dispose();
  }
});
