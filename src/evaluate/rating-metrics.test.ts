import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mse, rmse, mae, ratingReport } from './rating-metrics.js';

test('mse, rmse, mae on a hand example', () => {
  // errors: 4-3.5 = 0.5, 2-3 = -1, 5-5 = 0 → mse = (0.25 + 1 + 0) / 3, mae = 1.5 / 3
  const pred = Float32Array.of(3.5, 3, 5);
  const truth = Float32Array.of(4, 2, 5);
  assert.equal(mse(pred, truth), 1.25 / 3);
  assert.equal(rmse(pred, truth), Math.sqrt(1.25 / 3));
  assert.equal(mae(pred, truth), 0.5);
  assert.deepEqual(ratingReport(pred, truth), { n: 3, mse: 1.25 / 3, rmse: Math.sqrt(1.25 / 3), mae: 0.5 });
});

test('empty input gives NaN, never a perfect 0', () => {
  const e = new Float32Array(0);
  assert.ok(Number.isNaN(mse(e, e)));
  assert.ok(Number.isNaN(rmse(e, e)));
  assert.ok(Number.isNaN(mae(e, e)));
  const r = ratingReport(e, e);
  assert.equal(r.n, 0);
  assert.ok(Number.isNaN(r.rmse));
});

test('sums accumulate in float64: a million equal errors stay exact', () => {
  const n = 1_000_000;
  const pred = new Float32Array(n).fill(3.1);
  const truth = new Float32Array(n).fill(3.6);
  const err = Math.fround(3.6) - Math.fround(3.1);
  assert.ok(Math.abs(mae(pred, truth) - err) < 1e-12);
});

test('length mismatch is refused with a message that says what to pass', () => {
  assert.throws(() => mse(new Float32Array(2), new Float32Array(3)), {
    message: 'predictions and true ratings must have the same length, got 2 and 3; pass one prediction per rating',
  });
});
