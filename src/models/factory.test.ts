import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelKind } from './model.js';
import { createModel, loadParams, paramTables } from './factory.js';

test('createModel + loadParams rebuilds every kind with bit-identical predictions', () => {
  for (const kind of ['dot', 'dotbias', 'mf'] as const) {
    const a = createModel(kind, 7, 9, { nFactors: 5, yRange: [0, 5.5], globalMean: 3.5, clip: [1, 5] }, 1);
    for (const p of a.params) for (let j = 0; j < p.value.length; j++) p.value[j] = Math.sin(j + p.rows) * 0.3;
    const tables = paramTables(a).map((t) => ({ ...t, data: t.data.slice() }));
    const b = createModel(kind, 7, 9, a.config(), 99);
    loadParams(b, tables);
    for (let u = 0; u < 7; u++) for (let i = 0; i < 9; i++) assert.equal(b.predict(u, i), a.predict(u, i), `${kind} (${u}, ${i})`);
  }
});

test('loadParams refuses tables that do not match the model', () => {
  const m = createModel('dotbias', 3, 4, { nFactors: 2 });
  const tables = paramTables(m);
  assert.throws(() => loadParams(m, tables.slice(1)), /model file has 3 tables but a dotbias model needs 4/);
  const wrong = tables.map((t, j) => (j === 1 ? { ...t, rows: 5, data: new Float32Array(10) } : t));
  assert.throws(() => loadParams(m, wrong), /table 1 is itemFactors 5x2 but the dotbias model expects itemFactors 4x2/);
});

test('createModel names the kinds it can build', () => {
  assert.throws(() => createModel('svd' as ModelKind, 3, 3), /model kind "svd" is not available; use one of dot, dotbias, nn, mf/);
  assert.equal(createModel('nn', 3, 3).kind, 'nn');
});
