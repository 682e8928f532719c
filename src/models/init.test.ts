import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { truncNormal, uniform } from './init.js';

test('truncNormal is torch normal_().fmod_(2).mul_(std) over numpy-compatible draws', () => {
  const w = new Float32Array(10000);
  truncNormal(w, new RandomState(0), 0.01);
  const rng = new RandomState(0);
  for (let j = 0; j < 200; j++) {
    const z = rng.normal();
    const wrapped = z - Math.trunc(z / 2) * 2; // fmod keeps the sign
    assert.equal(w[j], Math.fround(wrapped * 0.01));
  }
  for (const v of w) assert.ok(Math.abs(v) < 0.02);
});

test('uniform fills [lo, hi)', () => {
  const w = new Float32Array(1000);
  uniform(w, new RandomState(1), 0, 0.05);
  let min = 1;
  let max = -1;
  for (const v of w) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(min >= 0 && max < 0.05 && max > 0.045 && min < 0.005);
});
