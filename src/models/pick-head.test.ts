import assert from 'node:assert/strict';
import test from 'node:test';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import { collabLearner } from '../train/learner.js';
import { toCsr } from './feature-csr.js';
import { HybridModel } from './hybrid.js';
import { PickHead } from './pick-head.js';
import { worstGradientErrors } from '../testing/fixtures.js';

// 5 users, 7 items; users have one of two features, items one of three (item 6 none).
const USERS = toCsr({ names: ['g:a', 'g:b'], offsets: [0, 1, 2, 3, 4, 5], indices: [0, 1, 0, 1, 0], weights: [1, 1, 1, 1, 1] }, 5, 'userFeatures');
const ITEMS = toCsr({ names: ['x', 'y', 'z'], offsets: [0, 1, 2, 4, 5, 6, 7, 7], indices: [0, 1, 0, 2, 1, 2, 0], weights: [1, 1, 0.5, 0.5, 1, 1, 1] }, 7, 'itemFeatures');

function batch(): Ratings {
  const rng = new RandomState(4);
  const n = 12;
  const users = Int32Array.from({ length: n }, () => rng.interval(4));
  const items = Int32Array.from({ length: n }, () => rng.interval(5));
  return { users, items, ratings: new Float32Array(n).fill(4), userIds: new IdMap(), itemIds: new IdMap() };
}

type Options = ConstructorParameters<typeof PickHead>[4];

/** A head whose tables are pushed away from init, so every gradient is clearly non-zero. */
function spicy(options: Options, seed: number): PickHead {
  const h = new PickHead(5, 7, USERS, ITEMS, options, seed);
  const rng = new RandomState(seed + 50);
  for (const p of h.params) for (let t = 0; t < p.value.length; t++) p.value[t] = rng.normal() * 0.5;
  return h;
}

test('pick head: the sampled-softmax gradient of every table matches central finite differences', (t) => {
  for (const [options, seed] of [
    [{ nFactors: 3, nNegatives: 4, initStd: 0.01, userIdDropout: 0, itemIdDropout: 0, kernels: 'js' }, 1],
    [{ nFactors: 5, nNegatives: 6, initStd: 0.01, userIdDropout: 0.3, itemIdDropout: 0.3, kernels: 'js' }, 2],
  ] as [Options, number][]) {
    const data = batch();
    const n = data.users.length;
    const order = Int32Array.from({ length: n }, (_, r) => r);
    const base = spicy(options, seed);
    base.trainBatch(data, order, 0, n);
    // a fresh head from the same seed draws the same negatives and dropout masks
    const worst = worstGradientErrors(base.params, (pi, idx, delta) => {
      const h = spicy(options, seed);
      const v = h.params[pi]!.value;
      const orig = v[idx]!;
      v[idx] = orig + delta;
      return [h.trainBatch(data, order, 0, n) / n, v[idx]! - orig];
    }, new RandomState(seed + 9), 8);
    for (const [name, rel] of worst) assert.ok(rel < 1e-4, `${name}: relative error ${rel}`);
    t.diagnostic(`seed ${seed}: ${[...worst].map(([name, rel]) => `${name} ${rel.toExponential(1)}`).join(', ')}`);
  }
});

test('pick head: the wasm products give the JS loops\' gradients up to float32 rounding', () => {
  const data = batch();
  const order = Int32Array.from({ length: data.users.length }, (_, r) => r);
  const options = { nFactors: 6, nNegatives: 5, initStd: 0.01, userIdDropout: 0, itemIdDropout: 0 };
  const js = spicy({ ...options, kernels: 'js' }, 3);
  const wasm = spicy({ ...options, kernels: 'wasm' }, 3);
  const lossJs = js.trainBatch(data, order, 0, order.length);
  const lossWasm = wasm.trainBatch(data, order, 0, order.length);
  assert.ok(Math.abs(lossJs - lossWasm) < 1e-4 * Math.abs(lossJs), `${lossJs} vs ${lossWasm}`);
  js.params.forEach((p, j) => {
    const q = wasm.params[j]!;
    for (let t = 0; t < p.grad.data.length; t++) assert.ok(Math.abs(p.grad.data[t]! - q.grad.data[t]!) < 1e-5, `${p.name}[${t}]`);
  });
});

/**
 * 40 users in two groups by a feature; group A watches movies 0-9 only, group B movies 10-19 only, and
 * movies 0 and 10 are watched by everyone of their group, the others by a seeded half.
 */
function twoGroups(): { ratings: Ratings; groupOf: (u: number) => 'a' | 'b' } {
  const rng = new RandomState(11);
  const users: number[] = [];
  const items: number[] = [];
  const userIds = new IdMap();
  const itemIds = new IdMap();
  for (let i = 0; i < 20; i++) itemIds.addInt(i + 1);
  for (let u = 0; u < 40; u++) {
    userIds.addInt(u + 1);
    const first = u % 2 === 0 ? 0 : 10;
    for (let i = first; i < first + 10; i++) {
      if (i !== first && rng.random() < 0.5) continue;
      users.push(u);
      items.push(i);
    }
  }
  return {
    ratings: { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length).fill(4), userIds, itemIds },
    groupOf: (u) => (u % 2 === 0 ? 'a' : 'b'),
  };
}

test('pick head trained by the learner: a user\'s picks rank their group\'s movies first; the bias follows popularity', async () => {
  const { ratings, groupOf } = twoGroups();
  const learner = collabLearner(ratings, undefined, { model: 'hybrid', nFactors: 4, modelConfig: { pickFactors: 4, pickNegatives: 8 }, seed: 5 });
  await learner.fitOneCycle(40, 3e-2);
  const m = learner.model as HybridModel;
  const items = m.pickItemRepresentations()!;
  for (const u of [0, 1, 6, 7]) {
    const p = m.pickUserRepresentation(u)!;
    const score = (i: number): number => {
      let s = items.bias[i]!;
      for (let f = 0; f < items.k; f++) s += p[f]! * items.factors[i * items.k + f]!;
      return s;
    };
    const own = groupOf(u) === 'a' ? [0, 10] : [10, 20];
    let worstOwn = Infinity;
    let bestOther = -Infinity;
    for (let i = 0; i < 20; i++) {
      if (i >= own[0]! && i < own[1]!) worstOwn = Math.min(worstOwn, score(i));
      else bestOther = Math.max(bestOther, score(i));
    }
    assert.ok(worstOwn > bestOther, `user ${u}: own-group movies ${worstOwn} vs others ${bestOther}`);
  }
  // movie 0 is watched by all of group A, movie 5 by about half: b' orders them so
  assert.ok(items.bias[0]! > items.bias[5]!, `${items.bias[0]} vs ${items.bias[5]}`);
});
