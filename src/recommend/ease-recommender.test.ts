import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { loadEaseModel, saveEaseModel, type TrainedEase } from '../io/ease-model.js';
import { manifestDigest, type ModelManifest } from '../io/model-file.js';
import { loadTrainedModel } from '../io/trained-model.js';
import { fitEase } from '../models/ease.js';
import { implicitBoard, runCli } from '../testing/fixtures.js';
import { EaseRecommender } from './ease-recommender.js';
import { loadRecommender } from './load.js';

function fitted(lambda = 5): TrainedEase {
  const { ratings, items } = implicitBoard();
  return { model: fitEase(ratings.users, ratings.items, ratings.userIds.size, ratings.itemIds.size, { lambda }), train: ratings, items };
}

const firstHalf = (id: unknown): boolean => typeof id === 'number' && id >= 101 && id <= 115;

function withDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'collab-ease-'));
  return Promise.resolve(body(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('an EASE model file round-trips: B, scores, lambda, ids, ratings and titles bit for bit', () =>
  withDir((dir) => {
    const trained = fitted(7.5);
    const path = join(dir, 'ease.json');
    const manifest = saveEaseModel(path, trained);
    assert.equal(manifest.kind, 'ease');
    assert.deepEqual(manifest.config, { lambda: 7.5, nItems: 30 });
    assert.deepEqual(manifest.weights.tables.map((t) => [t.name, t.rows, t.cols]), [
      ['B', 30, 30],
      ['data.users', trained.train.ratings.length, 1],
      ['data.items', trained.train.ratings.length, 1],
      ['data.ratings', trained.train.ratings.length, 1],
    ]);
    const back = loadEaseModel(path);
    assert.equal(back.model.lambda, 7.5);
    assert.deepEqual(back.model.B, trained.model.B);
    assert.deepEqual(back.train.users, trained.train.users);
    assert.deepEqual(back.train.items, trained.train.items);
    assert.deepEqual(back.train.ratings, trained.train.ratings);
    assert.deepEqual(back.train.itemIds.ids(), trained.train.itemIds.ids());
    assert.deepEqual(back.train.userIds.ids(), trained.train.userIds.ids());
    assert.deepEqual(back.items.get(101), { title: 'Movie 101 (1990)', genres: ['Comedy'], year: 1990 });
    for (let u = 0; u < trained.model.nUsers; u++) assert.deepEqual(back.model.scoreUser(u), trained.model.scoreUser(u));
  }));

test('EASE file errors: a rating-model loader refuses it, a damaged config or missing B is named', () =>
  withDir((dir) => {
    const path = join(dir, 'ease.json');
    saveEaseModel(path, fitted());
    assert.throws(() => loadTrainedModel(path), {
      message: `${path}: this is an EASE ranking model (collab rank --out), which predicts no ratings; use it with collab recommend, similar or serve, or train a rating model with collab train`,
    });
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    // re-signed, so the loader's own checks (past the manifest checksum) are what is tested
    const resigned = (m: ModelManifest): string => JSON.stringify({ ...m, manifestSha256: manifestDigest(m) });
    writeFileSync(path, resigned({ ...manifest, config: { lambda: 'big', nItems: 30 } }));
    assert.throws(() => loadEaseModel(path), {
      message: `${path}: the EASE config must be {lambda: number, nItems: 30}, got {"lambda":"big","nItems":30}; re-save it with collab rank --out`,
    });
    const tables = manifest.weights.tables.map((t: { name: string }) => (t.name === 'B' ? { ...t, name: 'C' } : t));
    writeFileSync(path, resigned({ ...manifest, weights: { ...manifest.weights, tables } }));
    assert.throws(() => loadEaseModel(path), { message: `${path}: the weights have no 30x30 table "B" that an EASE model needs; re-save it with collab rank --out` });
    const other = fitted();
    const t = other.train;
    const mismatched = { ...other, model: fitEase(t.users, t.items, t.userIds.size, 31, { lambda: 1 }) };
    assert.throws(() => saveEaseModel(join(dir, 'bad.json'), mismatched), {
      message: `the EASE model covers 40 users × 31 items but the training ratings have 40 × 30; save it with the ratings it was fitted on`,
    });
  }));

test('EaseRecommender on an implicit checkerboard recommends unseen movies of the user\'s own half', () => {
  const trained = fitted();
  const rec = new EaseRecommender(trained, { minRatings: 0 });
  assert.equal(rec.info.kind, 'ease');
  assert.equal(rec.info.scoreKind, 'ease');
  const seen = new Set(rec.userRatings(1).map((r) => r.itemId));
  // The halves never meet, so B is block diagonal: the other half scores exactly 0 and the user's
  // unseen movies of their own half (positive scores) come first.
  const unseen = 15 - seen.size;
  assert.ok(unseen >= 3, `user 1 has ${unseen} unseen first-half movies`);
  const top = rec.recommendForUser(1, { n: unseen });
  assert.equal(top.length, unseen);
  for (const it of top) {
    assert.ok(firstHalf(it.itemId), `user 1 got movie ${it.itemId}`);
    assert.ok(!seen.has(it.itemId), `movie ${it.itemId} was already rated`);
  }
  for (let t = 1; t < top.length; t++) assert.ok(top[t - 1]!.score >= top[t]!.score);
  // Scores are EASE scores (x·B): the shown score of a movie equals the model's own score.
  const u = trained.train.userIds.indexOf(1);
  const s = trained.model.scoreUser(u);
  assert.equal(top[0]!.score, s[trained.train.itemIds.indexOf(top[0]!.itemId)]);
  assert.ok(top[unseen - 1]!.score > 0);
  assert.equal(rec.recommendForUser(1, { n: unseen + 1 })[unseen]!.score, 0);
  for (const it of rec.recommendForUser(21, { n: 2 })) assert.ok(!firstHalf(it.itemId));
  // A visitor who watched two Comedy movies: their history is those movies, no fold-in.
  const visitor = rec.recommendForRatings([{ itemId: 101, rating: 5 }, { itemId: 102, rating: 5 }], { n: 5 });
  for (const it of visitor) assert.ok(firstHalf(it.itemId) && it.itemId !== 101 && it.itemId !== 102);
  assert.deepEqual(visitor.map((i) => i.score), Array.from(topScores(trained, [101, 102], 5)));
  for (const it of rec.similarItems(101, 3, 0)) assert.ok(firstHalf(it.itemId) && it.itemId !== 101);
});

function topScores(trained: TrainedEase, ids: number[], n: number): Float32Array {
  const s = trained.model.scoreItems(Int32Array.from(ids, (id) => trained.train.itemIds.indexOf(id)));
  for (const id of ids) s[trained.train.itemIds.indexOf(id)] = -Infinity;
  return Float32Array.from(Array.from(s).sort((a, b) => b - a).slice(0, n));
}

test('EaseRecommender filters: each of genre, years, minRatings and includeRated changes the list', () => {
  const trained = fitted();
  const rec = new EaseRecommender(trained, { minRatings: 0 });
  const seen = new Set(rec.userRatings(1).map((r) => r.itemId));
  const drama = rec.recommendForUser(1, { n: 3, genre: 'drama' });
  assert.equal(drama.length, 3);
  for (const it of drama) assert.deepEqual(it.genres, ['Drama']);
  for (const it of rec.recommendForUser(1, { n: 30, yearFrom: 1995, yearTo: 1999 })) assert.ok(it.year! >= 1995 && it.year! <= 1999);
  const counts = new Map(rec.movies().map((m) => [m.itemId, m.ratingCount]));
  const many = Math.max(...counts.values()) - 1;
  for (const it of rec.recommendForUser(1, { n: 30, minRatings: many })) assert.ok(counts.get(it.itemId)! >= many);
  assert.equal(rec.recommendForUser(1, { n: 30 }).length, 30 - seen.size);
  const all = rec.recommendForUser(1, { n: 30, includeRated: true });
  assert.equal(all.length, 30);
  assert.equal(all.filter((it) => seen.has(it.itemId)).length, seen.size);
});

test('EaseRecommender errors are pinned', () => {
  const rec = new EaseRecommender(fitted());
  assert.throws(() => rec.movieMap(10), {
    message: 'the movie map is not available for ease models (they have no movie embeddings); serve a rating model (collab train --out) for the map',
  });
  assert.throws(() => rec.recommendForRatings([]), { message: 'EASE needs at least one movie the user has seen; give a few ratings' });
  assert.throws(() => rec.recommendForRatings([{ itemId: 101, rating: 9 }]), { message: "rating 9 for movie 101 is outside the model's scale 5..5" });
  assert.throws(() => rec.recommendForRatings([{ itemId: 999, rating: 5 }]), (err: Error) => /999/.test(err.message));
  assert.throws(() => rec.recommendForUser(999), (err: Error) => /999/.test(err.message));
  assert.throws(() => rec.recommendForUser(1, { genre: 'Western' }), { message: 'unknown genre "Western"; known genres: comedy, drama' });
});

test('collab rank --out saves EASE; recommend, similar and loadRecommender use it', () =>
  withDir(async (dir) => {
    const { ratings } = implicitBoard();
    const lines = ['userId,movieId,rating,timestamp'];
    for (let r = 0; r < ratings.ratings.length; r++) lines.push(`${ratings.userIds.idOf(ratings.users[r]!)},${ratings.itemIds.idOf(ratings.items[r]!)},5,0`);
    const data = join(dir, 'ratings.csv');
    writeFileSync(data, `${lines.join('\n')}\n`);
    const model = join(dir, 'next.json');
    const rank = runCli(['rank', '--data', data, '--lambda', '5', '--out', model, '--json']);
    assert.equal(rank.status, 0, rank.stderr);
    const saved = rank.json?.saved as { out: string; ratings: number; fitSeconds: number; saveSeconds: number };
    assert.equal(saved.out, model);
    assert.equal(saved.ratings, ratings.ratings.length, 'the saved model learns from every rating, not only the training part');
    assert.ok(saved.fitSeconds >= 0 && saved.saveSeconds >= 0);
    const rec = loadRecommender(model);
    assert.ok(rec instanceof EaseRecommender);
    assert.equal(rec.userRatings(1).length, ratings.ratings.filter((_, r) => ratings.users[r] === ratings.userIds.indexOf(1)).length);
    const r = runCli(['recommend', '--model', model, '--user', '1', '--min-ratings', '0', '-n', '3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json?.scoreKind, 'ease');
    const items = r.json?.items as { itemId: number; score: number }[];
    assert.equal(items.length, 3);
    assert.deepEqual(items, JSON.parse(JSON.stringify(rec.recommendForUser(1, { n: 3, minRatings: 0, includeRated: false, explain: false }))));
    for (const it of items) assert.ok(firstHalf(it.itemId));
    const v = runCli(['recommend', '--model', model, '--ratings', '120:5,121:5', '--min-ratings', '0', '-n', '3', '--json']);
    assert.equal(v.status, 0, v.stderr);
    for (const it of v.json?.items as { itemId: number }[]) assert.ok(!firstHalf(it.itemId));
    const sim = runCli(['similar', '--model', model, '--item', '101', '--min-ratings', '0', '-n', '3', '--json']);
    assert.equal(sim.status, 0, sim.stderr);
    for (const it of sim.json?.items as { itemId: number }[]) assert.ok(firstHalf(it.itemId));
    assert.equal(sim.json?.scoreKind, 'ease');
    const ev = runCli(['evaluate', '--model', model, '--data', data]);
    assert.equal(ev.status, 1);
    assert.match(ev.stderr, /this is an EASE ranking model \(collab rank --out\), which predicts no ratings/);
  }));

test('explain: "because you watched" reasons are history movies with the largest positive B terms', () => {
  const rec = new EaseRecommender(fitted(), { minRatings: 0 });
  const history = new Set(rec.userRatings(1).map((r) => r.itemId));
  const [top] = rec.recommendForUser(1, { n: 1, explain: true });
  const because = top!.because!;
  assert.ok(because.length > 0 && because.length <= 3);
  for (const b of because) {
    assert.ok(history.has(b.itemId) && firstHalf(b.itemId), `reason ${b.itemId}`);
    assert.ok(b.similarity > 0);
    assert.equal(b.rating, 5);
  }
  for (let t = 1; t < because.length; t++) assert.ok(because[t - 1]!.similarity >= because[t]!.similarity);
  // the fixture's scale is 5..5 (implicit): a visitor's reasons are among the movies they gave
  const visitor = rec.recommendForRatings([{ itemId: 101, rating: 5 }, { itemId: 102, rating: 5 }], { n: 2, explain: true });
  assert.ok(visitor[0]!.because!.length > 0);
  assert.ok(visitor[0]!.because!.every((b) => (b.itemId === 101 || b.itemId === 102) && b.rating === 5));
});
