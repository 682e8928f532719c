import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combinedCos, oneCycle, schedCos, schedExp } from './schedules.js';
import { runLrFind, valley } from './lr-find.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('one-cycle follows fastai: lr_max/25 -> lr_max at 25% -> lr_max/1e5, momentum 0.95 -> 0.85 -> 0.95', () => {
  const s = oneCycle(5e-3);
  close(s.lr(0), 5e-3 / 25);
  close(s.lr(0.25), 5e-3);
  close(s.lr(1), 5e-3 / 1e5);
  close(s.mom(0), 0.95);
  close(s.mom(0.25), 0.85);
  close(s.mom(1), 0.95);
  // half-way through the warm-up the cosine is half-way
  close(s.lr(0.125), (5e-3 / 25 + 5e-3) / 2);
  // torch_collab.py's one_cycle at step 700 of 6250
  const p = 700 / 6250;
  close(s.lr(p), 5e-3 / 25 + (5e-3 - 5e-3 / 25) * (1 - Math.cos(Math.PI * (p / 0.25))) / 2);
});

test('schedCos, schedExp and combinedCos are pure functions of pos', () => {
  close(schedCos(1, 3, 0.5), 2);
  close(schedExp(1e-7, 10, 0.5), Math.sqrt(1e-7 * 10));
  const f = combinedCos(0.5, 0, 1, 0);
  close(f(0.5), 1);
  close(f(0.75), 0.5);
});

test('valley picks a point in the steep middle of the longest decreasing run', () => {
  const lrs = Array.from({ length: 100 }, (_, t) => 1e-7 * Math.pow(1e8, t / 100));
  // flat, then falling steadily from t = 30 to 70, then exploding
  const losses = lrs.map((_, t) => (t < 30 ? 2 : t <= 70 ? 2 - (t - 30) * 0.03 : 0.8 + (t - 70) * 0.5));
  const v = valley(lrs, losses);
  const t = lrs.indexOf(v);
  assert.ok(t > 35 && t < 60, `valley index ${t}`);
});

test('runLrFind ramps exponentially, smooths, and stops when the loss diverges', () => {
  const seen: number[] = [];
  const r = runLrFind((lr) => {
    seen.push(lr);
    return lr < 1e-2 ? 1 - Math.log10(lr / 1e-7) * 0.1 : 100 * lr;
  });
  close(seen[0]!, 1e-7);
  close(seen[1]! / seen[0]!, Math.pow(1e8, 1 / 100), 1e-9);
  assert.equal(r.diverged, true);
  assert.ok(r.lrs.length < 100);
  assert.ok(r.valley > 1e-6 && r.valley < 1e-1, `valley ${r.valley}`);
});
