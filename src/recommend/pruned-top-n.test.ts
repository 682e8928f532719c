import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import { loadDataset } from '../data/load.js';
import { userItemsCsr } from '../data/user-items.js';
import { topkKernels } from '../kernels/topk-kernels.js';
import { TopKHeap } from '../maths/top-k.js';
import { createModel } from '../models/factory.js';
import type { ModelKind } from '../models/model.js';
import { rawScores, type FactorScoring } from '../models/scoring.js';
import { sharedDataDir } from '../testing/fixtures.js';
import { buildItemFeatures } from '../models/hybrid-features.js';
import { collabLearner } from '../train/learner.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { writeAllRecommendations } from './all-users.js';
import { PrunedTopN, SIGMOID_TABLE, sigmoidUpper } from './pruned-top-n.js';
import { ModelRecommender } from './recommender.js';
import type { RecommendOptions } from './types.js';

// Tolerance of every comparison below: none. The block path scores each movie it ranks with the float64 chain of
// the per-user path (models/scoring.ts rawScores; the wasm kernel is bit for bit the same chain) and ranks the same
// float32 scores with the same tie rule (lower index first), so its lists must equal the per-user lists exactly,
// ties and near-ties included. Pruning only skips movies whose upper bound is below the n-th best.

const tmp = mkdtempSync(join(tmpdir(), 'collab-pruned-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Every user's list from recommendAllUsers equals recommendForUser's (movies, order, scores, rank scores). */
function assertAllEqualPerUser(rec: ModelRecommender, options: RecommendOptions, label: string): void {
  let users = 0;
  rec.recommendAllUsers(options, (userId, items) => {
    assert.deepEqual(items, rec.recommendForUser(userId, options), `${label}, user ${userId}`);
    users++;
  });
  assert.equal(users, rec.info.nUsers);
}

/** A recommender over random tables of `kind` with ties (copied movie rows) and a NaN movie; ratings say who saw what. */
function syntheticRecommender(kind: ModelKind, config: Record<string, unknown>, seed: number): ModelRecommender {
  const nUsers = 37;
  const nItems = 203;
  const k = 7;
  const rng = new RandomState(seed);
  const model = createModel(kind, nUsers, nItems, { nFactors: k, ...config }, seed);
  const s = model.factorScoring!();
  for (let x = 0; x < s.P.length; x++) s.P[x] = 0.6 * rng.normal();
  for (let x = 0; x < s.Q.length; x++) s.Q[x] = 0.6 * rng.normal();
  if (s.bu) for (let x = 0; x < s.bu.length; x++) s.bu[x] = 0.3 * rng.normal();
  if (s.bi) for (let x = 0; x < s.bi.length; x++) s.bi[x] = 0.3 * rng.normal();
  // movies 20..29 are copies of movie 5 (exact ties, broken by the lower index), movie 7 scores NaN
  for (let i = 20; i < 30; i++) {
    s.Q.copyWithin(i * k, 5 * k, 6 * k);
    if (s.bi) s.bi[i] = s.bi[5]!;
  }
  s.Q[7 * k + 3] = NaN;
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (rng.random() < 0.15 || i === 5) {
        users.push(u);
        items.push(i);
      }
    }
  }
  const train = {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from(users, (_, r) => 1 + (r % 9) / 2),
    userIds: IdMap.fromIds(Array.from({ length: nUsers }, (_, u) => u + 1)),
    itemIds: IdMap.fromIds(Array.from({ length: nItems }, (_, i) => 10 * i + 3)),
  };
  return new ModelRecommender({ model, train, items: new Map(), history: { epochs: [] } });
}

const SYNTHETIC_OPTIONS: [string, RecommendOptions][] = [
  ['defaults', { n: 7 }],
  ['every movie, no blend', { n: 7, minRatings: 0, popularityWeight: 0 }],
  ['more wanted than there are candidates', { n: 250, minRatings: 0 }],
  ['rated movies included, strong blend', { n: 5, includeRated: true, popularityWeight: 3 }],
  ['extra seen movies', { n: 6, minRatings: 1, seen: [13, 23, 33, 99999] }],
];

for (const [kind, config] of [
  ['dotbias', { yRange: [0, 5.5] }],
  ['mf', { globalMean: 3.5, clip: [0.5, 5] }],
  ['dot', {}],
] as const) {
  test(`${kind} ${JSON.stringify(config)}: recommendAllUsers lists equal recommendForUser's exactly (ties, a NaN movie, filters, blend)`, () => {
    const rec = syntheticRecommender(kind, config, 11);
    for (const [label, options] of SYNTHETIC_OPTIONS) assertAllEqualPerUser(rec, options, label);
  });
}

test('PrunedTopN: the wasm scan and the JS scan pick the same movies, score the same ones, and prune', () => {
  const rng = new RandomState(5);
  const nUsers = 50;
  const nItems = 1000;
  const k = 12;
  const model = createModel('dotbias', nUsers, nItems, { nFactors: k, yRange: [0, 5.5] }, 5);
  const s = model.factorScoring!();
  for (let x = 0; x < s.P.length; x++) s.P[x] = 0.5 * rng.normal();
  // movies with small norms and biases (rarely rated ones in a trained model) are where pruning pays
  for (let i = 0; i < nItems; i++) {
    const scale = i % 10 === 0 ? 0.6 : 0.15;
    for (let f = 0; f < k; f++) s.Q[i * k + f] = scale * rng.normal();
    s.bi![i] = (i % 10 === 0 ? 0.5 : -0.5) + 0.2 * rng.normal();
  }
  const popularity = Float32Array.from({ length: nItems }, () => Math.log1p(rng.interval(100)));
  const candidates = Int32Array.from({ length: nItems - 3 }, (_, t) => t + 3);
  const seen = userItemsCsr(Int32Array.from({ length: 200 }, (_, r) => r % nUsers), Int32Array.from({ length: 200 }, (_, r) => (r * 37) % nItems), nUsers);
  const wasm = new PrunedTopN(s, candidates, popularity, 0.5);
  const js = new PrunedTopN(s, candidates, popularity, 0.5, { wasm: false });
  const heap = new TopKHeap(10);
  for (let u = 0; u < nUsers; u++) {
    const exclude = seen.items.subarray(seen.offsets[u]!, seen.offsets[u + 1]!);
    wasm.select(u, exclude, heap);
    const a = heap.take();
    js.select(u, exclude, heap);
    const b = heap.take();
    assert.deepEqual(a, b, `user ${u}`);
    for (const i of exclude) assert.ok(!a.items.includes(i), `user ${u} saw movie ${i}`);
  }
  assert.equal(wasm.scoredItems, js.scoredItems);
  assert.ok(wasm.scoredItems < 0.5 * nUsers * candidates.length, `scored ${wasm.scoredItems} of ${nUsers * candidates.length}`);
});

test('PrunedTopN over a sigmoid range given the wrong way round (hi < lo) prunes nothing and ranks as a full sort does', () => {
  const rng = new RandomState(2);
  const k = 5;
  const nItems = 90;
  const P = Float32Array.from({ length: 4 * k }, () => rng.normal());
  const Q = Float32Array.from({ length: nItems * k }, () => rng.normal());
  const bi = Float32Array.from({ length: nItems }, () => rng.normal());
  const scoring: FactorScoring = { k, P, Q, bu: undefined, bi, offset: 0, yRange: [5, 1], clip: [-Infinity, Infinity] };
  const popularity = Float32Array.from({ length: nItems }, (_, i) => (i % 7) / 7);
  const topN = new PrunedTopN(scoring, Int32Array.from({ length: nItems }, (_, i) => i), popularity, 0.5);
  const heap = new TopKHeap(6);
  for (let u = 0; u < 4; u++) {
    topN.select(u, undefined, heap);
    const got = heap.take();
    const raw = new Float64Array(nItems);
    rawScores(scoring, P.subarray(u * k, (u + 1) * k), 0, raw, undefined, nItems);
    const rank = Array.from(raw, (s, i) => Math.fround(Math.fround(5 - 4 / (1 + Math.exp(-s))) + 0.5 * popularity[i]!));
    const order = Array.from(rank.keys()).sort((a, b) => rank[b]! - rank[a]! || a - b).slice(0, 6);
    assert.deepEqual(Array.from(got.items), order, `user ${u}`);
  }
  assert.equal(topN.scoredItems, 4 * nItems);
});

test('sigmoidUpper bounds the sigmoid from above within 1.1e-4, and the kernel computes it bit for bit', () => {
  const kernels = topkKernels(8 * SIGMOID_TABLE.length)!;
  new Float64Array(kernels.memory.buffer, 0, SIGMOID_TABLE.length).set(SIGMOID_TABLE);
  kernels.exports.setSigmoidTable(0);
  const xs = [-800, -40.001, -40, -39.99, -20, -3.3, -1, -1e-9, 0, 1e-9, 0.5, 0.6931471805599453, 2, 7.25, 30, 39.99, 40, 900];
  const rng = new RandomState(4);
  for (let t = 0; t < 20000; t++) xs.push(90 * (rng.random() - 0.5));
  for (const x of xs) {
    const upper = sigmoidUpper(x);
    const exact = 1 / (1 + Math.exp(-x));
    assert.ok(upper >= exact && upper - exact < 1.1e-4, `x ${x}: ${upper} against ${exact}`);
    assert.equal(kernels.exports.sigmoidUpper(x), upper, `x ${x}`);
  }
  assert.ok(Number.isNaN(sigmoidUpper(NaN)) && Number.isNaN(kernels.exports.sigmoidUpper(NaN)));
});

test('the topk kernel scoreRows computes rawScores\' float64 chains bit for bit (1 to 50 factors, ragged lists)', () => {
  const rng = new RandomState(9);
  for (const k of [1, 3, 4, 7, 50]) {
    const nItems = 23;
    const Q = Float32Array.from({ length: nItems * k }, () => rng.normal());
    const bi = Float32Array.from({ length: nItems }, () => rng.normal());
    const p = Float32Array.from({ length: k }, () => rng.normal());
    const scoring: FactorScoring = { k, P: p, Q, bu: undefined, bi, offset: 0.25, yRange: undefined, clip: [-Infinity, Infinity] };
    const kernels = topkKernels(4 * Q.length + 4 * nItems + 8 * k + 4 * nItems + 8 * nItems + 128)!;
    const buf = kernels.memory.buffer;
    const at16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
    const qOff = 0;
    const biOff = at16(4 * Q.length);
    const pOff = at16(biOff + 4 * nItems);
    const listOff = at16(pOff + 8 * k);
    const outOff = at16(listOff + 4 * nItems);
    new Float32Array(buf, qOff, Q.length).set(Q);
    new Float32Array(buf, biOff, nItems).set(bi);
    new Float64Array(buf, pOff, k).set(p);
    for (const n of [0, 1, 3, 4, 5, 11, 23]) {
      const list = Int32Array.from({ length: n }, (_, t) => (t * 7 + 2) % nItems);
      new Int32Array(buf, listOff, n).set(list);
      kernels.exports.scoreRows(outOff, pOff, qOff, 0.25 + 0.5, biOff, listOff, n, k);
      const expected = new Float64Array(n);
      rawScores(scoring, p, 0.5, expected, list, n);
      assert.deepEqual(new Float64Array(buf, outOff, n), expected, `k ${k}, n ${n}`);
      // and rawScores is the one-movie-at-a-time chain of the formula
      for (let t = 0; t < n; t++) {
        let s = 0.25 + 0.5 + bi[list[t]!]!;
        for (let f = 0; f < k; f++) s += p[f]! * Q[list[t]! * k + f]!;
        assert.equal(expected[t], s);
      }
    }
  }
});

const dataDir = sharedDataDir();

for (const kind of ['dotbias', 'mf', 'hybrid'] as const) {
  test(`ml-latest-small, ${kind} with 50 factors: every user's list from recommend --all equals the per-user list exactly`, { skip: dataDir === undefined ? 'COLLAB_DATA_DIR is not set' : false }, async (t) => {
    const dataset = loadDataset('ml-latest-small', { dataDir: dataDir! });
    const train = dataset.ratings;
    const recipe = TRAIN_DEFAULTS[kind];
    // the hybrid as collab train builds it from movie metadata, with its pick head (a personal popularity term)
    const features = kind === 'hybrid' ? { modelConfig: { itemFeatures: buildItemFeatures(train.itemIds, dataset.items, ['genres', 'year', 'tags']) } } : {};
    const learner = collabLearner(train, undefined, { model: kind, nFactors: 50, seed: 42, threads: 1, ...features });
    // two epochs: a trained model's spread of norms and biases, in a fraction of the full recipe's time
    await learner.fitOneCycle(2, recipe.lr);
    const rec = new ModelRecommender({ model: learner.model, train, items: dataset.items, history: { epochs: [] } });
    assertAllEqualPerUser(rec, { n: 10 }, 'defaults');
    assertAllEqualPerUser(rec, { n: 20, genre: 'Comedy', includeRated: true, popularityWeight: 0 }, 'comedies, rated included, no blend');
    // the hybrid's per-user path scores its pick head for every movie: two sets of options are enough for it
    if (kind === 'hybrid') return;
    assertAllEqualPerUser(rec, { n: 10, minRatings: 0 }, 'every movie');
    assertAllEqualPerUser(rec, { n: 5, yearFrom: 1990, yearTo: 1999, explain: true }, '1990s with reasons');
    // the CSV holds the same lists
    const path = join(tmp, `${kind}.csv`);
    await writeAllRecommendations(rec, path, { n: 10 });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').slice(1);
    const expected: string[] = [];
    for (const userId of train.userIds.ids()) rec.recommendForUser(userId, { n: 10 }).forEach((it, r) => expected.push(`${userId},${r + 1},${it.itemId},${it.score}`));
    assert.deepEqual(lines, expected);
    // how much the bound prunes on a trained model (a count, not a time)
    const scoring = learner.model.factorScoring!();
    const counts = new Int32Array(train.itemIds.size);
    for (const i of train.items) counts[i]!++;
    const popularity = Float32Array.from(counts, (c) => Math.log1p(c));
    const candidates = Int32Array.from(Array.from(counts.keys()).filter((i) => counts[i]! >= 5));
    const topN = new PrunedTopN(scoring, candidates, popularity, 0.5);
    const seen = userItemsCsr(train.users, train.items, train.userIds.size);
    const heap = new TopKHeap(10);
    for (let u = 0; u < train.userIds.size; u++) {
      topN.select(u, seen.items.subarray(seen.offsets[u]!, seen.offsets[u + 1]!), heap);
      heap.take();
    }
    const perUser = topN.scoredItems / train.userIds.size;
    t.diagnostic(`${kind}: ${perUser.toFixed(0)} of ${candidates.length} candidates scored per user`);
    assert.ok(perUser < 0.5 * candidates.length, `${perUser} of ${candidates.length} scored per user`);
  });
}
