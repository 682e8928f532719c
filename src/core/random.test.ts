import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from './random.js';

test('RandomState(42) matches numpy: permutation, random_sample, normal', () => {
  const r = new RandomState(42);
  assert.deepEqual(Array.from(r.permutation(10)), [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
  assert.equal(r.random(), 0.15599452033620265);
  assert.equal(r.normal(), 1.5792128155073915);
});

test('seed outside 32 bits is refused', () => {
  assert.throws(() => new RandomState(-1), /seed must be an integer/);
});
