import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { userItemsCsr, itemsOfUser } from '../data/user-items.js';
import { TopKHeap, topKForUser, topKAllUsers, topKRows, topKForVector } from './top-k.js';

/** Reference: full sort by score descending, ties by LOWER item index first, excluded and NaN dropped. */
function fullSort(scores: ArrayLike<number>, k: number, exclude: ArrayLike<number> = []): number[] {
  const ex = new Set(Array.from(exclude));
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!ex.has(i) && !Number.isNaN(scores[i]!)) idx.push(i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, k);
}

test('topKForUser equals a full sort on random data with many ties (ties by lower index)', () => {
  const rng = new RandomState(7);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.interval(300);
    const scores = new Float32Array(n);
    // values on a coarse grid so equal scores are common
    for (let i = 0; i < n; i++) scores[i] = Math.round(rng.normal() * 4) / 4;
    const k = 1 + rng.interval(40);
    const ex = Int32Array.from(fullSort(Array.from({ length: n }, () => rng.random()), rng.interval(n))).sort();
    const got = topKForUser(scores, k, ex);
    const want = fullSort(scores, k, ex);
    assert.deepEqual(Array.from(got.items), want, `trial ${trial}`);
    assert.deepEqual(Array.from(got.scores), want.map((i) => scores[i]!));
  }
});

test('exclusion removes exactly the listed items; fewer than k left gives a shorter list', () => {
  const scores = Float32Array.of(5, 4, 3, 2, 1);
  assert.deepEqual(Array.from(topKForUser(scores, 3).items), [0, 1, 2]);
  assert.deepEqual(Array.from(topKForUser(scores, 3, Int32Array.of(0, 2)).items), [1, 3, 4]);
  assert.deepEqual(Array.from(topKForUser(scores, 10, Int32Array.of(1, 2, 3)).items), [0, 4]);
  assert.deepEqual(Array.from(topKForUser(Float32Array.of(NaN, 1, NaN), 3).items), [1]);
  assert.deepEqual(Array.from(topKForUser(new Float32Array(0), 3).items), []);
});

test('bad k and unsorted exclusion lists are refused', () => {
  assert.throws(() => topKForUser(new Float32Array(3), 0), { message: 'k must be an integer >= 1, got 0' });
  assert.throws(() => topKForUser(new Float32Array(3), 2, Int32Array.of(2, 1)), {
    message: 'exclude must be sorted ascending (position 1 has 1 after 2); sort it or build it with userItemsCsr',
  });
});

test('TopKHeap accepts pushes in any order and keeps the best k, ties by lower index', () => {
  const rng = new RandomState(3);
  const heap = new TopKHeap(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = rng.interval(60);
    const scores = Array.from({ length: n }, () => Math.round(rng.normal() * 3) / 3);
    const order = rng.permutation(n);
    for (const i of order) heap.push(i, scores[i]!);
    assert.deepEqual(Array.from(heap.take().items), fullSort(scores, 7));
    assert.equal(heap.size, 0);
  }
});

test('TopKHeap.threshold is -Infinity until the heap is full, then the worst kept score', () => {
  const heap = new TopKHeap(2);
  assert.equal(heap.threshold(), -Infinity);
  heap.push(4, 0.5);
  assert.equal(heap.threshold(), -Infinity);
  heap.push(1, 0.25);
  assert.equal(heap.threshold(), 0.25);
  heap.push(3, 0.75);
  assert.equal(heap.threshold(), 0.5);
  assert.deepEqual(Array.from(heap.take().items), [3, 4]);
  assert.equal(heap.threshold(), -Infinity);
});

test('topKAllUsers equals per-user full sorts of p·q + b_i, with exclusion, blocks and a user subset', () => {
  const rng = new RandomState(11);
  const nUsers = 13;
  const nItems = 97;
  const nf = 5;
  const P = Float32Array.from({ length: nUsers * nf }, () => rng.normal());
  const Q = Float32Array.from({ length: nItems * nf }, () => rng.normal());
  const bu = Float32Array.from({ length: nUsers }, () => rng.normal());
  const bi = Float32Array.from({ length: nItems }, () => rng.normal());
  // make two items score identically for everyone, to exercise the tie rule
  Q.copyWithin(40 * nf, 20 * nf, 21 * nf);
  bi[40] = bi[20]!;
  const us = Int32Array.from({ length: 300 }, () => rng.interval(nUsers - 1));
  const is = Int32Array.from({ length: 300 }, () => rng.interval(nItems - 1));
  const ex = userItemsCsr(us, is, nUsers);
  const k = 9;
  const offset = 3.5;
  for (const blockSize of [1, 4, 6, 64]) {
    const m = topKAllUsers(P, Q, k, bu, bi, ex, { nFactors: nf, blockSize, offset });
    for (let u = 0; u < nUsers; u++) {
      // same float64 accumulation order as the kernel, rounded to float32 like its buffer
      const scores = new Float32Array(nItems);
      for (let i = 0; i < nItems; i++) {
        let dot = 0;
        for (let f = 0; f < nf; f++) dot += P[u * nf + f]! * Q[i * nf + f]!;
        scores[i] = dot + bi[i]!;
      }
      const want = fullSort(scores, k, itemsOfUser(ex, u));
      assert.deepEqual(Array.from(m.items.subarray(u * k, (u + 1) * k)), want, `user ${u}, block ${blockSize}`);
      for (let t = 0; t < k; t++) {
        assert.ok(Math.abs(m.scores[u * k + t]! - (scores[want[t]!]! + bu[u]! + offset)) < 1e-5);
      }
    }
  }
  const sub = topKAllUsers(P, Q, k, bu, bi, ex, { nFactors: nf, users: Int32Array.of(12, 3), blockSize: 4 });
  const full = topKAllUsers(P, Q, k, bu, bi, ex, { nFactors: nf });
  assert.deepEqual(Array.from(sub.items.subarray(0, k)), Array.from(full.items.subarray(12 * k, 13 * k)));
  assert.deepEqual(Array.from(sub.items.subarray(k, 2 * k)), Array.from(full.items.subarray(3 * k, 4 * k)));
  const rows = topKRows(sub, nUsers);
  assert.equal(rows[0], undefined);
  assert.deepEqual(Array.from(rows[3]!), Array.from(sub.items.subarray(k, 2 * k)));
});

test('topKAllUsers pads short rows with -1 / -Infinity and maps scores through yRange', () => {
  // 1 user, 3 items, 1 factor: scores 1, 3, 2; item 1 excluded
  const P = Float32Array.of(1);
  const Q = Float32Array.of(1, 3, 2);
  const ex = userItemsCsr(Int32Array.of(0), Int32Array.of(1), 1);
  const m = topKAllUsers(P, Q, 4, undefined, undefined, ex, { nFactors: 1, yRange: [0, 5.5] });
  assert.deepEqual(Array.from(m.items), [2, 0, -1, -1]);
  const sig = (s: number): number => 5.5 / (1 + Math.exp(-s));
  assert.ok(Math.abs(m.scores[0]! - sig(2)) < 1e-6 && Math.abs(m.scores[1]! - sig(1)) < 1e-6);
  assert.equal(m.scores[3], -Infinity);
  assert.deepEqual(Array.from(topKRows(m, 1)[0]!), [2, 0]);
});

test('topKAllUsers refuses mismatched shapes', () => {
  assert.throws(() => topKAllUsers(new Float32Array(6), new Float32Array(7), 2, undefined, undefined, undefined, { nFactors: 2 }), {
    message: 'factor tables of length 6 and 7 are not multiples of nFactors 2; pass the model\'s number of factors',
  });
  assert.throws(() => topKAllUsers(new Float32Array(6), new Float32Array(8), 2, undefined, new Float32Array(3), undefined, { nFactors: 2 }), {
    message: 'itemBias has 3 entries for 4 items',
  });
});

test('topKForVector ranks a free-standing user vector like topKAllUsers ranks a table row', () => {
  const rng = new RandomState(21);
  const nf = 3;
  const nItems = 41;
  const P = Float32Array.from({ length: 2 * nf }, () => rng.normal());
  const Q = Float32Array.from({ length: nItems * nf }, () => rng.normal());
  const bi = Float32Array.from({ length: nItems }, () => rng.normal());
  const bu = Float32Array.of(0.5, -0.25);
  const ex = userItemsCsr(Int32Array.of(1, 1, 1), Int32Array.of(2, 9, 30), 2);
  const m = topKAllUsers(P, Q, 5, bu, bi, ex, { nFactors: nf, offset: 1, yRange: [1, 5] });
  const v = topKForVector(P.subarray(nf, 2 * nf), Q, 5, { userBias: -0.25, itemBias: bi, offset: 1, yRange: [1, 5], exclude: itemsOfUser(ex, 1) });
  assert.deepEqual(Array.from(v.items), Array.from(m.items.subarray(5, 10)));
  for (let t = 0; t < 5; t++) assert.ok(Math.abs(v.scores[t]! - m.scores[5 + t]!) < 1e-5);
  assert.throws(() => topKForVector(new Float32Array(2), Q, 5), {
    message: 'an item table of length 123 does not fit a user vector of 2 factors',
  });
});
