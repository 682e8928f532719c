import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import type { RatingModel } from './model.js';
import { EmbeddingDot } from './dot.js';
import { EmbeddingDotBias } from './dotbias.js';
import { BiasedMF } from './mf.js';

/** 12 ratings over 4 users × 5 items, some pairs twice in the batch's rows to exercise accumulation. */
function tinyRatings(): Ratings {
  const users = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3]);
  const items = Int32Array.from([0, 1, 1, 2, 2, 3, 3, 4, 4, 0, 1, 2]);
  const ratings = Float32Array.from([4, 3, 5, 1, 2, 4, 3.5, 5, 1, 2, 4, 3]);
  const userIds = new IdMap();
  const itemIds = new IdMap();
  for (let u = 0; u < 4; u++) userIds.addInt(u + 1);
  for (let i = 0; i < 5; i++) itemIds.addInt(i + 1);
  return { users, items, ratings, userIds, itemIds };
}

/** Batch loss mean (pred - y)^2 over `order`, in float64 through the model's own predict. */
function loss(model: RatingModel, data: Ratings, order: Int32Array): number {
  let s = 0;
  for (const row of order) {
    const err = model.predict(data.users[row]!, data.items[row]!) - data.ratings[row]!;
    s += err * err;
  }
  return s / order.length;
}

/** Compares trainBatch's gradient with central finite differences for every entry of every param. */
function gradCheck(model: RatingModel): void {
  const data = tinyRatings();
  // rows 0..11 plus a repeat of rows 2 and 5: a batch may hold the same pair twice
  const order = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 2, 5]);
  for (const p of model.params) p.grad.reset(true);
  const sse = model.trainBatch(data, order, 0, order.length);
  assert.ok(Math.abs(sse / order.length - loss(model, data, order)) < 1e-5, 'trainBatch returns the batch SSE');
  let checked = 0;
  for (const p of model.params) {
    for (let j = 0; j < p.value.length; j++) {
      const orig = p.value[j]!;
      const h = 1e-2;
      p.value[j] = orig + h;
      const up = p.value[j]!;
      const lUp = loss(model, data, order);
      p.value[j] = orig - h;
      const down = p.value[j]!;
      const lDown = loss(model, data, order);
      p.value[j] = orig;
      const numeric = (lUp - lDown) / (up - down);
      const analytic = p.grad.data[j]!;
      assert.ok(
        Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(numeric),
        `${model.kind} ${p.name}[${j}]: analytic ${analytic} vs numeric ${numeric}`,
      );
      checked++;
    }
    // every row with a nonzero gradient must be in the touched list
    const touched = new Set(Array.from(p.grad.touched.subarray(0, p.grad.count)));
    for (let row = 0; row < p.rows; row++) {
      let any = false;
      for (let c = 0; c < p.cols; c++) if (p.grad.data[row * p.cols + c] !== 0) any = true;
      if (any) assert.ok(touched.has(row), `${p.name} row ${row} has a gradient but was not touched`);
    }
  }
  assert.ok(checked > 20);
}

test('EmbeddingDot gradient matches finite differences', () => {
  gradCheck(new EmbeddingDot(4, 5, { nFactors: 3, initMax: 1 }, 1));
});

test('EmbeddingDotBias gradient matches finite differences', () => {
  gradCheck(new EmbeddingDotBias(4, 5, { nFactors: 3, yRange: [0, 5.5], initStd: 0.5 }, 2));
});

test('BiasedMF gradient matches finite differences', () => {
  gradCheck(new BiasedMF(4, 5, { nFactors: 3, globalMean: 3.2, initStd: 0.5 }, 3));
});

test('BiasedMF per-rating SGD follows the Funk update by hand', () => {
  const m = new BiasedMF(1, 1, { nFactors: 2, globalMean: 3, initStd: 0 }, 1);
  m.userFactors.value.set([1, 2]);
  m.itemFactors.value.set([0.5, -1]);
  const data = { ...tinyRatings(), users: Int32Array.from([0]), items: Int32Array.from([0]), ratings: Float32Array.from([4]) };
  // pred = 3 + 0 + 0 + (0.5 - 2) = 1.5, err = 2.5; lr 0.1, reg 0.5: keep = 0.95, step = 0.25
  const sse = m.sgd(data, Int32Array.from([0]), 0, 1, 0.1, 0.5);
  assert.equal(sse, 6.25);
  assert.ok(Math.abs(m.userBias.value[0]! - 0.25) < 1e-7);
  assert.ok(Math.abs(m.userFactors.value[0]! - (0.95 * 1 + 0.25 * 0.5)) < 1e-6);
  assert.ok(Math.abs(m.itemFactors.value[1]! - (0.95 * -1 + 0.25 * 2)) < 1e-6);
});

test('dotbias predictions stay inside yRange and dot init is uniform(0, 0.05)', () => {
  const m = new EmbeddingDotBias(3, 3, { nFactors: 4, yRange: [1, 5.5], initStd: 1 }, 7);
  for (let u = 0; u < 3; u++) for (let i = 0; i < 3; i++) {
    const p = m.predict(u, i);
    assert.ok(p >= 1 && p <= 5.5);
  }
  const d = new EmbeddingDot(50, 50, {}, 7);
  for (const v of d.userFactors.value) assert.ok(v >= 0 && v < 0.05);
});

test('models refuse bad shapes with a message naming the option', () => {
  assert.throws(() => new EmbeddingDotBias(0, 3), /nUsers must be an integer >= 1, got 0/);
  assert.throws(() => new EmbeddingDotBias(3, 3, { yRange: [5, 1] }), /yRange must be \[lo, hi\] with hi > lo, got \[5, 1\]/);
  assert.throws(() => new EmbeddingDot(3, 3, { nFactors: 2.5 }), /nFactors must be an integer from 1 to 4096, got 2.5/);
});
