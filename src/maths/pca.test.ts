import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pca } from './pca.js';

test('PCA of a rank-2 table recovers its two directions (up to sign), strongest first', () => {
  const d = 5;
  const n = 300;
  const s = Math.SQRT1_2;
  const d1 = [s, s, 0, 0, 0];
  const d2 = [0, 0, s, -s, 0];
  const m = [1, -2, 0.5, 3, 0];
  const table = new Float32Array(n * d);
  const a = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    // a and b are exactly uncorrelated and centred over a full period, so the axes are exactly d1 and d2
    a[r] = 3 * Math.cos((2 * Math.PI * r) / n);
    const b = Math.sin((2 * Math.PI * r) / n);
    for (let f = 0; f < d; f++) table[r * d + f] = m[f]! + a[r]! * d1[f]! + b * d2[f]!;
  }
  const p = pca(table, n, d, 3);
  assert.ok(p.converged);
  const dot = (c: number, v: number[]): number => v.reduce((acc, x, f) => acc + x * p.components[c * d + f]!, 0);
  assert.ok(Math.abs(Math.abs(dot(0, d1)) - 1) < 1e-5, `component 0 · d1 = ${dot(0, d1)}`);
  assert.ok(Math.abs(Math.abs(dot(1, d2)) - 1) < 1e-5, `component 1 · d2 = ${dot(1, d2)}`);
  // the sign rule: each component's largest-magnitude entry is positive
  for (let c = 0; c < 2; c++) {
    const comp = Array.from(p.components.subarray(c * d, (c + 1) * d));
    const big = comp.reduce((bi, x, f) => (Math.abs(x) > Math.abs(comp[bi]!) ? f : bi), 0);
    assert.ok(comp[big]! > 0);
  }
  assert.ok(p.variance[0]! > p.variance[1]! && p.variance[2]! < 1e-6);
  assert.ok(Math.abs(p.explainedRatio[0]! + p.explainedRatio[1]! - 1) < 1e-6);
  // coordinates on component 0 are the centred a_r (up to the component's sign)
    const sign = Math.sign(dot(0, d1));
  for (const r of [0, 17, 299]) assert.ok(Math.abs(p.coordinates[r * 3]! - sign * a[r]!) < 1e-4);
});

test('PCA over a subset of rows uses only those rows', () => {
  const table = Float32Array.of(0, 0, 1, 0, 2, 0, 0, 5, 0, -5);
  const p = pca(table, 5, 2, 1, { rows: Int32Array.of(0, 1, 2) });
  assert.deepEqual(Array.from(p.components).map((x) => Math.round(x * 1e6) / 1e6), [1, 0]);
  assert.equal(p.coordinates.length, 3);
  assert.ok(Math.abs(p.variance[0]! - 1) < 1e-9);
});

test('bad shapes are refused', () => {
  assert.throws(() => pca(new Float32Array(6), 3, 2, 3), { message: 'nComponents must be an integer from 1 to 2, got 3' });
  assert.throws(() => pca(new Float32Array(5), 3, 2, 1), { message: 'table has 5 values, expected nRows × nCols = 6' });
  assert.throws(() => pca(new Float32Array(2), 1, 2, 1), { message: 'PCA needs at least 2 rows, got 1; pass more items (or fewer filters)' });
});
