import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { manifestDigest, type ModelManifest } from '../io/model-file.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkerboard, runCli } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { loadTrainedModel, saveTrainedModel, type TrainedModel } from '../io/trained-model.js';
import { ModelRecommender } from './recommender.js';
import { evaluateModel } from '../evaluate/evaluate-model.js';
import { interpretModel } from './interpret.js';
import { IdMap } from '../data/id-map.js';
import { randomSplit } from '../data/split.js';

const tmp = mkdtempSync(join(tmpdir(), 'collab-rec-'));
const modelPath = join(tmp, 'model.json');
let trained: TrainedModel;
let rec: ModelRecommender;

before(async () => {
  const { ratings, items } = checkerboard();
  const learner = collabLearner(ratings, undefined, { nFactors: 4, batchSize: 32, wd: 0.01, seed: 3 });
  await learner.fitOneCycle(40, 0.05);
  trained = { model: learner.model, train: ratings, items, history: { epochs: learner.history } };
  saveTrainedModel(modelPath, trained);
  rec = new ModelRecommender(loadTrainedModel(modelPath), { minRatings: 0, similarMinRatings: 0 });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const comedy = (id: unknown) => typeof id === 'number' && id >= 101 && id <= 115;

test('save then load gives the same predictions bit for bit', () => {
  const loaded = loadTrainedModel(modelPath);
  for (let u = 0; u < trained.model.nUsers; u += 7) {
    for (let i = 0; i < trained.model.nItems; i += 5) assert.equal(loaded.model.predict(u, i), trained.model.predict(u, i));
  }
  assert.equal(loaded.items.get(101)?.title, 'Movie 101 (1990)');
});

test('a truncated weights file is refused with a clear error', () => {
  const copy = join(tmp, 'cut.json');
  const weights = join(tmp, saveTrainedModel(copy, trained).weights.file);
  truncateSync(weights, statSync(weights).size - 8);
  assert.throws(() => loadTrainedModel(copy), /weights file is truncated/);
});

test('a config whose shapes differ from the weights is refused naming the file and both shapes', () => {
  const copy = join(tmp, 'shape.json');
  saveTrainedModel(copy, trained);
  const m = JSON.parse(readFileSync(copy, 'utf8')) as ModelManifest;
  const edited = { ...m, config: { ...m.config, nFactors: 5 } };
  // re-signed, so the shape check (past the manifest checksum) is what is tested
  writeFileSync(copy, JSON.stringify({ ...edited, manifestSha256: manifestDigest(edited) }));
  const users = trained.train.userIds.size;
  assert.throws(() => loadTrainedModel(copy), {
    code: 'BAD_MODEL',
    message: `${copy}: table 0 is userFactors ${users}x4 but the dotbias model expects userFactors ${users}x5; the file is damaged or does not match its manifest — retrain`,
  });
});

test('a model whose weights overflowed is not saved', () => {
  const copy = join(tmp, 'nan.json');
  const table = trained.model.params[1]!;
  const before = table.value[5]!;
  table.value[5] = Number.NaN;
  try {
    assert.throws(() => saveTrainedModel(copy, trained), {
      code: 'INVALID_OPTION',
      message: `the model's table "${table.name}" holds NaN at row ${Math.floor(5 / table.cols)}: its training diverged; train again with a lower lr`,
    });
  } finally {
    table.value[5] = before;
  }
  assert.throws(() => statSync(copy), { code: 'ENOENT' });
});

test('a known user gets unrated movies of the half they like, best first', () => {
  // user 1 left exactly three comedies unrated (seeded fixture)
  const items = rec.recommendForUser(1, { n: 3 });
  assert.equal(items.length, 3);
  const rated = new Set(rec.userRatings(1).map((r) => r.itemId));
  for (const it of items) {
    assert.ok(!rated.has(it.itemId), `movie ${it.itemId} was rated by user 1`);
    assert.ok(comedy(it.itemId), `movie ${it.itemId} is not one user 1 likes`);
  }
  const byRating = rec.recommendForUser(1, { n: 8, popularityWeight: 0 });
  for (let t = 1; t < byRating.length; t++) assert.ok(byRating[t - 1]!.score >= byRating[t]!.score);
  assert.ok(byRating[2]!.score > 4.5 && byRating[3]!.score < 1.5);
});

test('filters: genre, years, include rated, and because-you-liked reasons', () => {
  const drama = rec.recommendForUser(1, { n: 3, genre: 'drama' });
  assert.ok(drama.every((m) => m.genres.includes('Drama')));
  const years = rec.recommendForUser(1, { n: 30, yearFrom: 1992, yearTo: 1995, includeRated: true });
  assert.deepEqual(years.map((m) => m.year).sort(), [1992, 1993, 1994, 1995]);
  const explained = rec.recommendForUser(1, { n: 2, explain: true });
  assert.ok(explained[0]!.because!.length > 0);
  assert.ok(explained[0]!.because!.every((b) => b.rating >= 4 && comedy(b.itemId)));
  assert.throws(() => rec.recommendForUser(1, { genre: 'Western' }), /unknown genre "Western"; known genres: comedy, drama/);
});

test('fold-in: a visitor who loves two comedies gets comedies', () => {
  const items = rec.recommendForRatings([{ itemId: 101, rating: 5 }, { itemId: 102, rating: 5 }, { itemId: 120, rating: 1 }], { n: 5 });
  assert.ok(items.every((m) => comedy(m.itemId) && m.itemId !== 101 && m.itemId !== 102));
  const dramaFan = rec.recommendForRatings([{ itemId: 101, rating: 1 }, { itemId: 125, rating: 5 }], { n: 5 });
  assert.ok(dramaFan.every((m) => !comedy(m.itemId)));
});

test('fold-in errors name the value', () => {
  assert.throws(() => rec.recommendForRatings([]), /at least one \(movie, rating\) pair/);
  assert.throws(() => rec.recommendForRatings([{ itemId: 101, rating: 7 }]), /rating 7 for movie 101 is outside the model's scale 1\.\.5/);
  assert.throws(() => rec.recommendForRatings([{ itemId: 999, rating: 4 }]), /unknown item id 999/);
  assert.throws(() => rec.recommendForUser(12345), /unknown user id 12345/);
  assert.throws(() => rec.recommendForUser(1, { n: 0 }), /n must be an integer from 1 to 10000, got 0/);
});

test('similar movies come from the same half', () => {
  const items = rec.similarItems(101, 5);
  assert.equal(items.length, 5);
  assert.ok(items.every((m) => comedy(m.itemId) && m.itemId !== 101));
  assert.ok(items[0]!.score <= 1 && items[0]!.score > 0.5);
});

test('similar by content: movies of the same genre first', () => {
  const items = rec.similarByContent(101, 5);
  assert.equal(items.length, 5);
  assert.ok(items.every((m) => comedy(m.itemId) && m.itemId !== 101), JSON.stringify(items.map((m) => m.itemId)));
});

test('movie map and interpretation cover the most-rated movies', () => {
  const map = rec.movieMap(10);
  assert.equal(map.length, 10);
  assert.ok(map.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const info = interpretModel(trained, { n: 3, topMovies: 30, components: 2 });
  assert.equal(info.components.length, 2);
  assert.equal(info.biases!.lowest.length, 3);
  // the first component separates the two halves: its ends hold one half each
  const c = info.components[0]!;
  assert.notEqual(comedy(c.lowest[0]!.itemId), comedy(c.highest[0]!.itemId));
});

test('evaluate: rating error on the training data is small and ranking finds the liked half', () => {
  const result = evaluateModel(trained, trained.train, { k: 5, threshold: 4 });
  assert.ok(result.rmse < 0.5, `rmse ${result.rmse}`);
  assert.equal(result.unknown.ratings, 0);
  assert.ok(result.ranking!.users > 0);
});

test('CLI: recommend --json ends with one JSON object; bad flags exit 2; unknown user exits 1', () => {
  const ok = runCli(['recommend', '--model', modelPath, '--user', '1', '-n', '3', '--min-ratings', '0', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const items = ok.json!.items as { itemId: number; title: string; score: number }[];
  assert.equal(items.length, 3);
  assert.ok(items.every((m) => typeof m.title === 'string' && typeof m.score === 'number'));
  const fold = runCli(['recommend', '--model', modelPath, '--ratings', '101:5,102:5', '--min-ratings', '0', '--json']);
  assert.equal(fold.status, 0, fold.stderr);
  const bad = runCli(['recommend', '--model', modelPath, '--user', '1', '-n', '0']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /-n must be a positive integer, got 0/);
  const unknown = runCli(['recommend', '--model', modelPath, '--user', '777']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^collab: error: unknown user id 777/m);
  const pairs = runCli(['recommend', '--model', modelPath, '--ratings', '101-5']);
  assert.equal(pairs.status, 2);
  assert.match(pairs.stderr, /"101-5" is not movieId:rating/);
  // a known user's new ratings: the newly rated movie is no longer recommended
  const before = runCli(['recommend', '--model', modelPath, '--user', '1', '-n', '1', '--min-ratings', '0', '--json']);
  const top = (before.json!.items as { itemId: number }[])[0]!.itemId;
  const after = runCli(['recommend', '--model', modelPath, '--user', '1', '--ratings', `${top}:1`, '-n', '3', '--min-ratings', '0', '--json']);
  assert.equal(after.status, 0, after.stderr);
  assert.ok((after.json!.items as { itemId: number }[]).every((m) => m.itemId !== top));
  assert.equal(after.json!.foldIn, true);
  const neither = runCli(['recommend', '--model', modelPath]);
  assert.equal(neither.status, 2);
  assert.match(neither.stderr, /give --user ID, --ratings "movieId:rating,\.\.\.", or both/);
  const sim = runCli(['similar', '--model', modelPath, '--item', '101', '--min-ratings', '0', '--json']);
  assert.equal(sim.status, 0, sim.stderr);
  assert.equal((sim.json!.items as unknown[]).length, 10);
});

/**
 * Two audiences: 30 users watch (and rate 4) movies 1-10, 10 users movies 11-20; every rating is 4, so the
 * predicted rating says nothing and the ranking is the popularity term alone. Movies 11-20 are the less
 * watched ones overall, but they are what people like a visitor who rated two of them watch.
 */
function twoAudiences(): TrainedModel['train'] {
  const users: number[] = [];
  const items: number[] = [];
  const userIds = new IdMap();
  const itemIds = new IdMap();
  for (let i = 1; i <= 20; i++) itemIds.addInt(i);
  for (let u = 0; u < 40; u++) {
    userIds.addInt(u + 1);
    const first = u < 30 ? 0 : 10;
    for (let i = first; i < first + 10; i++) {
      if ((u + i) % 3 === 0) continue;
      users.push(u);
      items.push(i);
    }
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length).fill(4), userIds, itemIds };
}

test('hybrid with a pick head: a visitor\'s ranking uses what people like them watch, not global popularity', async () => {
  const ratings = twoAudiences();
  // the co-watch term (the default for visitors) is switched off to see the pick head's own fold-in
  const fit = async (pickFactors: number, coWatch = false): Promise<ModelRecommender> => {
    const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, seed: 2, modelConfig: { pickFactors, pickNegatives: 8 } });
    await learner.fitOneCycle(30, 3e-2);
    return new ModelRecommender({ model: learner.model, train: ratings, items: new Map(), history: { epochs: learner.history } }, { minRatings: 0, coWatch });
  };
  const niche = (id: unknown): boolean => typeof id === 'number' && id >= 11;
  const visitor = [{ itemId: 11, rating: 4 }, { itemId: 12, rating: 4 }];
  const count = (list: { itemId: unknown }[]): number => list.filter((r) => niche(r.itemId)).length;
  const withPick = (await fit(4)).recommendForRatings(visitor, { n: 5 });
  const withoutPick = (await fit(0)).recommendForRatings(visitor, { n: 5 });
  const show = `with the pick head ${withPick.map((r) => r.itemId).join(',')}; ln(1 + count) alone ${withoutPick.map((r) => r.itemId).join(',')}`;
  assert.ok(withPick.slice(0, 3).every((r) => niche(r.itemId)), show);
  assert.ok(count(withPick) >= 4 && count(withoutPick) <= 1, show);
  assert.ok(count((await fit(0, true)).recommendForRatings(visitor, { n: 5 })) >= 4, 'the co-watch term finds the niche without a pick head');
  // known users too: user 35 (of the niche audience) gets niche movies first
  const known = (await fit(4)).recommendForUser(35, { n: 3, includeRated: true });
  assert.ok(known.every((r) => niche(r.itemId)), known.map((r) => r.itemId).join(','));
});

test('fold-in reasons: each pick names the liked movies that drive it, not every movie the visitor liked', () => {
  const given = [101, 102, 125, 126].map((itemId) => ({ itemId, rating: 5 }));
  const items = rec.recommendForRatings(given, { n: 10, explain: true });
  const comedies = items.filter((m) => comedy(m.itemId));
  const dramas = items.filter((m) => !comedy(m.itemId));
  assert.ok(comedies.length > 0 && dramas.length > 0, 'a visitor of both halves gets both');
  for (const m of items) {
    assert.ok(m.because!.length >= 1 && m.because!.length <= 3, `${m.itemId} has 1 to 3 reasons`);
    for (const b of m.because!) assert.equal(comedy(b.itemId), comedy(m.itemId), `${m.itemId} is explained by ${b.itemId} of the other half`);
  }
});

test('a known user is never recommended a movie of the validation part the model was built with, nor one the caller adds', async () => {
  const { ratings, items } = checkerboard();
  const { train, valid } = randomSplit(ratings, { validPct: 0.3, seed: 5 });
  const learner = collabLearner(train, valid, { nFactors: 4, batchSize: 32, wd: 0.01, seed: 3 });
  await learner.fitOneCycle(5, 0.05);
  const path = join(tmp, 'with-valid.json');
  learner.save(path, items);
  const loaded = loadTrainedModel(path);
  assert.equal(loaded.seen?.users.length, valid.ratings.length, 'the file records the validation pairs');
  const split = new ModelRecommender(loaded, { minRatings: 0 });
  const n = ratings.itemIds.size;
  let validOffered = 0;
  for (let u = 0; u < ratings.userIds.size; u++) {
    const userId = ratings.userIds.idOf(u);
    const rated = new Set<unknown>();
    for (let r = 0; r < ratings.ratings.length; r++) if (ratings.users[r] === u) rated.add(ratings.itemIds.idOf(ratings.items[r]!));
    const recs = split.recommendForUser(userId, { n }).map((s) => s.itemId);
    assert.deepEqual(recs.filter((i) => rated.has(i)), [], `user ${userId}`);
    assert.equal(recs.length, n - rated.size);
    const extra = recs.slice(0, 2);
    assert.deepEqual(split.recommendForUser(userId, { n, seen: [...extra, 'not-a-movie'] }).map((s) => s.itemId), recs.slice(2), '`seen` leaves more out');
    validOffered += split.recommendForUser(userId, { n, includeRated: true }).filter((s) => rated.has(s.itemId)).length;
    // new ratings of a known user are a fold-in; what the model knows they rated stays out
    const newRating = [{ itemId: recs[0]!, rating: 5 }];
    const folded = split.recommendForRatings(newRating, { n, seenBy: userId }).map((s) => s.itemId);
    assert.deepEqual(folded.filter((i) => rated.has(i) || i === recs[0]), [], `fold-in of user ${userId}`);
  }
  assert.equal(validOffered, ratings.ratings.length, 'includeRated offers them all again');
  // a file from before the validation pairs were recorded loads and excludes its training ratings
  const old = join(tmp, 'old.json');
  saveTrainedModel(old, { ...loaded, seen: undefined });
  assert.equal(loadTrainedModel(old).seen, undefined);
  await learner.close();
});

test("a visitor's list follows what the people who rated their movies rated, not global popularity", async () => {
  // 30 users rate movies 1..10 and 10 users rate movies 11..20, every rating a 4: the ratings say nothing
  // about taste, so only who-rated-what can tell a visitor who gave 11 and 12 that 13..20 are theirs
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const users: number[] = [];
  const itemsCol: number[] = [];
  for (let u = 0; u < 40; u++) {
    for (let i = 0; i < 10; i++) {
      users.push(userIds.addInt(u + 1));
      itemsCol.push(itemIds.addInt(u < 30 ? 1 + i : 11 + i));
    }
  }
  const ratings = { users: Int32Array.from(users), items: Int32Array.from(itemsCol), ratings: new Float32Array(users.length).fill(4), userIds, itemIds };
  const learner = collabLearner(ratings, undefined, { nFactors: 4, batchSize: 32, seed: 3 });
  await learner.fitOneCycle(3, 0.01);
  const trained = { model: learner.model, train: ratings, items: new Map(), history: { epochs: learner.history } };
  const given = [{ itemId: 11, rating: 4 }, { itemId: 12, rating: 4 }];
  const picks = new ModelRecommender(trained, { minRatings: 0 }).recommendForRatings(given, { n: 8 }).map((s) => s.itemId);
  assert.deepEqual([...picks].sort((a, b) => Number(a) - Number(b)), [13, 14, 15, 16, 17, 18, 19, 20]);
  const global = new ModelRecommender(trained, { minRatings: 0, coWatch: false }).recommendForRatings(given, { n: 8 }).map((s) => s.itemId);
  assert.ok(global.filter((id) => Number(id) <= 10).length >= 4, `global popularity fills the list with the crowd's movies: ${global.join(',')}`);
  await learner.close();
});

test('no state is carried between calls: interleaved calls give what each gives alone, and predictions are fresh arrays', () => {
  const visitor = [{ itemId: 101, rating: 5 }, { itemId: 102, rating: 5 }];
  const aloneVisitor = rec.recommendForRatings(visitor, { n: 5 });
  const aloneUser = rec.recommendForUser(1, { n: 5 });
  const predicted = rec.predictForRatings(visitor);
  // another caller in between leaves the first caller's results as they were
  const again = rec.predictForRatings([{ itemId: 125, rating: 5 }]);
  assert.notEqual(again, predicted);
  assert.deepEqual(rec.predictForRatings(visitor), predicted);
  assert.deepEqual(rec.recommendForUser(1, { n: 5 }), aloneUser);
  assert.deepEqual(rec.recommendForRatings(visitor, { n: 5 }), aloneVisitor);
  // the shown score of each pick is the visitor's predicted rating, kept on the rating scale
  const [lo, hi] = rec.ratingScale();
  for (const it of aloneVisitor) assert.equal(it.score, Math.min(hi, Math.max(lo, predicted[trained.train.itemIds.indexOf(it.itemId)]!)));
  assert.equal('lastScores' in rec, false);
});
