import assert from 'node:assert/strict';
import test from 'node:test';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import type { ItemMeta, Ratings, UserMeta } from '../data/ratings.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrainedModel, saveTrainedModel } from '../io/trained-model.js';
import { collabLearner } from '../train/learner.js';
import { createModel, loadParams, paramTables, MODEL_KINDS } from './factory.js';
import { HybridModel, type FeatureTable, type HybridOptions } from './hybrid.js';
import { buildItemFeatures, buildUserFeatures } from './hybrid-features.js';
import { worstGradientErrors } from '../testing/fixtures.js';

// 5 users, 6 items; user 4 and item 5 never occur in the batch (cold).
const USER_FEATURES: FeatureTable = {
  names: ['age:18-24', 'gender:F', 'gender:M'],
  offsets: [0, 2, 4, 5, 6, 8],
  indices: [0, 1, 0, 2, 2, 1, 0, 2],
  weights: [0.5, 0.5, 0.5, 0.5, 1, 1, 0.5, 0.5],
};
const ITEM_FEATURES: FeatureTable = {
  names: ['genre:Comedy', 'genre:Drama', 'year:1995-1999', 'tag:pixar'],
  offsets: [0, 2, 3, 5, 6, 6, 8],
  indices: [0, 2, 1, 1, 3, 0, 0, 3],
  weights: [0.5, 0.5, 1, 0.5, 0.5, 1, 0.5, 0.5],
};

function batch(seed: number): Ratings {
  const rng = new RandomState(seed);
  const n = 14;
  const users = Int32Array.from({ length: n }, () => rng.interval(3));
  const items = Int32Array.from({ length: n }, () => rng.interval(4));
  const ratings = Float32Array.from({ length: n }, () => 1 + rng.interval(4));
  return { users, items, ratings, userIds: new IdMap(), itemIds: new IdMap() };
}

/** A model whose tables are pushed away from init so every gradient is clearly non-zero. */
function spicy(options: HybridOptions, seed: number): HybridModel {
  const m = new HybridModel(5, 6, options, seed);
  const rng = new RandomState(seed + 100);
  for (const p of m.params) for (let t = 0; t < p.value.length; t++) p.value[t] = rng.normal() * 0.4;
  return m;
}

function gradientCheck(options: HybridOptions, seed: number): Map<string, number> {
  const data = batch(seed);
  const n = data.ratings.length;
  const order = Int32Array.from({ length: n }, (_, t) => t);
  const base = spicy(options, seed);
  base.trainBatch(data, order, 0, n);
  // each table against the objective it is trained on: the cold movie tables and the pick head have their own;
  // a fresh model from the same seed draws the same id-dropout masks and negatives
  return worstGradientErrors(base.params, (pi, idx, delta) => {
    const m = spicy(options, seed);
    const v = m.params[pi]!.value;
    const orig = v[idx]!;
    v[idx] = orig + delta;
    const sse = m.trainBatch(data, order, 0, n);
    const name = m.params[pi]!.name;
    const loss = name.includes('Cold') ? m.lastColdLoss : name.includes('Pick') ? m.lastPickLoss : sse;
    return [loss / n, v[idx]! - orig];
  }, new RandomState(seed + 7));
}

test('finite differences match the analytic gradient of every table (with and without id dropout)', (t) => {
  for (const [options, seed] of [
    [{ nFactors: 3, yRange: [0, 5.5], userFeatures: USER_FEATURES, itemFeatures: ITEM_FEATURES, userIdDropout: 0, itemIdDropout: 0, pickFactors: 2, pickNegatives: 3, kernels: 'js' }, 1],
    [{ nFactors: 4, yRange: [0.5, 5.5], userFeatures: USER_FEATURES, itemFeatures: ITEM_FEATURES, userIdDropout: 0.3, itemIdDropout: 0.3, pickFactors: 3, pickNegatives: 2, kernels: 'js' }, 2],
  ] as [HybridOptions, number][]) {
    const worst = gradientCheck(options, seed);
    assert.deepEqual([...worst.keys()], [
      'userIdFactors', 'itemIdFactors', 'userIdBias', 'itemIdBias',
      'userFeatureFactors', 'itemFeatureFactors', 'userFeatureBias', 'itemFeatureBias',
      'itemColdFactors', 'itemColdBias',
      'userPickFactors', 'itemPickFactors', 'itemPickBias', 'userFeaturePickFactors', 'itemFeaturePickFactors', 'itemFeaturePickBias',
    ]);
    t.diagnostic(`seed ${seed}: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
    for (const [name, rel] of worst) assert.ok(rel < 1e-4, `${name}: relative error ${rel}`);
  }
});

test('a cold user or item is predicted from its features; without features it is the init noise only', () => {
  const m = spicy({ nFactors: 3, userFeatures: USER_FEATURES, itemFeatures: ITEM_FEATURES }, 3);
  // zero the id rows of user 4 and item 5, as for entities that never trained (up to tiny init noise)
  m.userIdFactors.value.fill(0, 4 * 3, 5 * 3);
  m.userIdBias.value[4] = 0;
  m.itemIdFactors.value.fill(0, 5 * 3, 6 * 3);
  m.itemIdBias.value[5] = 0;
  const fu = m.featureUser(['gender:M', 'age:18-24']);
  assert.deepEqual(fu.unknown, []);
  const rep = m.userRepresentation(4);
  for (let f = 0; f < 3; f++) assert.ok(Math.abs(rep.vector[f]! - fu.vector[f]!) < 1e-6);
  assert.ok(Math.abs(rep.bias - fu.bias) < 1e-6);
  assert.deepEqual(m.userFeatureNames(4), ['age:18-24', 'gender:M']);
  assert.deepEqual(m.itemFeatureNames(5), ['genre:Comedy', 'tag:pixar']);
  assert.deepEqual(m.featureUser(['gender:X']).unknown, ['gender:X']);
  // item 4 has no features and no id part: its prediction is the sigmoid of the user bias alone
  m.itemIdFactors.value.fill(0, 4 * 3, 5 * 3);
  m.itemIdBias.value[4] = 0;
  const x = m.userRepresentation(0).bias;
  assert.ok(Math.abs(m.predict(0, 4) - 5.5 / (1 + Math.exp(-x))) < 1e-5);
});

/** Users 1..40: women love movies 101-105 and dislike 106-110, men the opposite; gender is the only user feature. */
function genderWorld(): { ratings: Ratings; users: Map<number, UserMeta> } {
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const users = new Map<number, UserMeta>();
  const u: number[] = [];
  const it: number[] = [];
  const r: number[] = [];
  for (let x = 1; x <= 42; x++) {
    const female = x % 2 === 0;
    users.set(x, { gender: female ? 'F' : 'M' });
    userIds.addInt(x);
    if (x > 40) continue; // users 41 (M) and 42 (F) never rate: cold
    for (let i = 101; i <= 110; i++) {
      u.push(userIds.addInt(x));
      it.push(itemIds.addInt(i));
      r.push((i <= 105) === female ? 5 : 1);
    }
  }
  return { ratings: { users: Int32Array.from(u), items: Int32Array.from(it), ratings: Float32Array.from(r), userIds, itemIds }, users };
}

test('trained by the learner, new users get different, correct predictions from demographics alone', async () => {
  const { ratings, users } = genderWorld();
  const userFeatures = buildUserFeatures(ratings.userIds, users, ['gender']);
  const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, modelConfig: { yRange: [0, 5.5], userFeatures, userIdDropout: 0.5 } });
  await learner.fitOneCycle(30, 3e-2);
  const m = learner.model as HybridModel;
  const man = ratings.userIds.indexOf(41);
  const woman = ratings.userIds.indexOf(42);
  const comedyLike = ratings.itemIds.indexOf(101);
  const other = ratings.itemIds.indexOf(110);
  assert.ok(m.predict(woman, comedyLike) > 4, `woman, 101: ${m.predict(woman, comedyLike)}`);
  assert.ok(m.predict(woman, other) < 2, `woman, 110: ${m.predict(woman, other)}`);
  assert.ok(m.predict(man, comedyLike) < 2, `man, 101: ${m.predict(man, comedyLike)}`);
  assert.ok(m.predict(man, other) > 4, `man, 110: ${m.predict(man, other)}`);
});

test('createModel("hybrid") rebuilds the model from its config; loadParams gives the same predictions', () => {
  assert.ok(MODEL_KINDS.includes('hybrid'));
  const m = spicy({ nFactors: 3, yRange: [0, 5.5], userFeatures: USER_FEATURES, itemFeatures: ITEM_FEATURES }, 5);
  const config = JSON.parse(JSON.stringify(m.config())) as Record<string, unknown>;
  const copy = createModel('hybrid', 5, 6, config, 99);
  loadParams(copy, paramTables(m));
  for (let u = 0; u < 5; u++) for (let i = 0; i < 6; i++) assert.equal(copy.predict(u, i), m.predict(u, i));
  assert.equal((copy as HybridModel).userIdDropout, 0);
  assert.equal((copy as HybridModel).itemIdDropout, 0);
  assert.equal((copy as HybridModel).pick?.itemIdDropout, 0.1);
  assert.equal((copy as HybridModel).pick?.nFactors, 3);
  assert.ok((copy as HybridModel).coldItemTables);
});

test('without features the hybrid is fastai\'s dotbias: same init, same training, same predictions', async () => {
  const { ratings } = genderWorld();
  const dot = collabLearner(ratings, undefined, { model: 'dotbias', nFactors: 4, yRange: [0, 5.5] });
  const hyb = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, modelConfig: { yRange: [0, 5.5] } });
  await dot.fitOneCycle(2, 1e-2);
  await hyb.fitOneCycle(2, 1e-2);
  for (const [u, i] of [[0, 0], [3, 7], [39, 9]] as const) assert.equal(hyb.model.predict(u, i), dot.model.predict(u, i));
  assert.deepEqual(hyb.history.map((h) => h.trainLoss), dot.history.map((h) => h.trainLoss));
});

test('a trained hybrid saves to a model file and loads back with its feature tables, predicting bit for bit', async () => {
  const { ratings, users } = genderWorld();
  const userFeatures = buildUserFeatures(ratings.userIds, users, ['gender']);
  const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, modelConfig: { yRange: [0, 5.5], userFeatures } });
  await learner.fitOneCycle(2, 1e-2);
  const dir = mkdtempSync(join(tmpdir(), 'collab-hybrid-'));
  try {
    const path = join(dir, 'hybrid.json');
    saveTrainedModel(path, { model: learner.model, train: ratings, items: new Map(), history: { epochs: [] } });
    const loaded = loadTrainedModel(path);
    assert.equal(loaded.model.kind, 'hybrid');
    const m = loaded.model as HybridModel;
    assert.deepEqual(m.userFeatureNames(ratings.userIds.indexOf(42)), ['gender:F']);
    for (let u = 0; u < 42; u += 5) for (let i = 0; i < 10; i += 3) assert.equal(m.predict(u, i), learner.model.predict(u, i));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad feature tables are refused with a message that says how to build them', () => {
  assert.throws(
    () => new HybridModel(4, 6, { userFeatures: USER_FEATURES }),
    /userFeatures must have 5 offsets \(one row per user \+ 1\) ending at indices.length, and one weight per index; got 6 offsets, 8 indices, 8 weights/,
  );
  assert.throws(
    () => new HybridModel(5, 6, { itemFeatures: { ...ITEM_FEATURES, indices: [0, 2, 1, 1, 3, 0, 0, 9] } }),
    /itemFeatures index 9 at entry 7 is outside its vocabulary of 4 features/,
  );
  assert.throws(() => new HybridModel(5, 6, { userIdDropout: 2 }), /userIdDropout must be a number from 0 to 1, got 2/);
});

test('a hybrid model file written before the pick head and the cold movie tables still loads, without them', async () => {
  const { ratings, users } = genderWorld();
  const userFeatures = buildUserFeatures(ratings.userIds, users, ['gender']);
  const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, modelConfig: { yRange: [0, 5.5], userFeatures, pickFactors: 0, coldItemTables: false } });
  await learner.fitOneCycle(1, 1e-2);
  const dir = mkdtempSync(join(tmpdir(), 'collab-hybrid-old-'));
  try {
    const path = join(dir, 'old.json');
    saveTrainedModel(path, { model: learner.model, train: ratings, items: new Map(), history: { epochs: [] } });
    // the manifest of an older collab had no such keys (and, being version 1, no manifest checksum)
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { config: Record<string, unknown>; version: number; manifestSha256?: string };
    delete manifest.config.pickFactors;
    delete manifest.config.coldItemTables;
    manifest.version = 1;
    delete manifest.manifestSha256;
    writeFileSync(path, JSON.stringify(manifest));
    const m = loadTrainedModel(path).model as HybridModel;
    assert.equal(m.pick, undefined);
    assert.equal(m.coldItemTables, undefined);
    for (let u = 0; u < 42; u += 7) assert.equal(m.predict(u, 3), learner.model.predict(u, 3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pick head trained on a second thread gives one thread\'s tables bit for bit', async () => {
  const { ratings, users } = genderWorld();
  const userFeatures = buildUserFeatures(ratings.userIds, users, ['gender']);
  const tables = async (threads: number): Promise<Float32Array[]> => {
    const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, threads, batchSize: 16, modelConfig: { yRange: [0, 5.5], userFeatures, pickFactors: 3, pickNegatives: 4 } });
    await learner.fitOneCycle(3, 1e-2);
    learner.exportState();
    await learner.close();
    assert.equal((learner.model as HybridModel).pickTrainedElsewhere, threads > 1);
    return learner.model.params.map((p) => p.value.slice());
  };
  const one = await tables(1);
  const two = await tables(2);
  assert.equal(one.length, two.length);
  one.forEach((t, j) => assert.deepEqual(two[j], t, `table ${j}`));
});

test('a trained hybrid predicts a movie it never trained on by its cold tables, and a model file keeps which movies those are', async () => {
  const { ratings, users } = genderWorld();
  // movie 111 is in the id map (it has metadata) but no user rated it
  const unrated = ratings.itemIds.addInt(111);
  const items = new Map<number, ItemMeta>();
  for (let i = 101; i <= 111; i++) items.set(i, { title: `Movie ${i}`, genres: [i <= 105 || i === 111 ? 'Comedy' : 'Drama'] });
  const itemFeatures = buildItemFeatures(ratings.itemIds, items, ['genres']);
  const userFeatures = buildUserFeatures(ratings.userIds, users, ['gender']);
  const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, modelConfig: { yRange: [0, 5.5], userFeatures, itemFeatures } });
  await learner.fitOneCycle(20, 3e-2);
  learner.exportState();
  await learner.close();
  const m = learner.model as HybridModel;
  const cold = m.coldItem(unrated)!;
  const woman = ratings.userIds.indexOf(2);
  const rep = m.userRepresentation(woman);
  let x = rep.bias + cold.bias;
  for (let f = 0; f < 4; f++) x += rep.vector[f]! * cold.vector[f]!;
  assert.ok(Math.abs(m.predict(woman, unrated) - 5.5 / (1 + Math.exp(-x))) < 1e-5);
  // an unrated comedy is predicted as comedies are: women like them
  assert.ok(m.predict(woman, unrated) > 3.5, `${m.predict(woman, unrated)}`);
  assert.deepEqual((m.config() as { untrainedItems: number[] }).untrainedItems, [unrated]);
  const dir = mkdtempSync(join(tmpdir(), 'collab-hybrid-cold-'));
  try {
    const path = join(dir, 'cold.json');
    saveTrainedModel(path, { model: m, train: ratings, items, history: { epochs: [] } }, { includeRatings: false });
    const loaded = loadTrainedModel(path).model;
    for (let u = 0; u < 42; u += 5) assert.equal(loaded.predict(u, unrated), m.predict(u, unrated));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
