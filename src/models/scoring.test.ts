import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from './factory.js';
import { finishScores, linkScore, meanUser, scoreUserVector, userOf } from './scoring.js';

test('every factor model gives its scoring, and scoring a user vector against all movies is its predict', () => {
  for (const kind of ['dot', 'dotbias', 'mf', 'hybrid'] as const) {
    const model = createModel(kind, 7, 9, { nFactors: 5, yRange: [0.5, 5.5], globalMean: 3.5, clip: [1, 5] }, 1);
    for (const p of model.params) for (let j = 0; j < p.value.length; j++) p.value[j] = Math.sin(j + p.rows) * 0.3;
    const scoring = model.factorScoring?.();
    assert.ok(scoring, `${kind} gives factorScoring`);
    const out = new Float32Array(9);
    for (let u = 0; u < 7; u++) {
      const user = userOf(scoring, u);
      scoreUserVector(scoring, user.vector, user.bias, out);
      for (let i = 0; i < 9; i++) assert.ok(Math.abs(out[i]! - model.predict(u, i)) < 1e-5, `${kind} (${u}, ${i}): ${out[i]} vs ${model.predict(u, i)}`);
    }
  }
});

test('the link: a y-range maps through the scaled sigmoid, a clip range clips, and targets score only those movies', () => {
  assert.equal(linkScore({ yRange: [0, 5], clip: [-Infinity, Infinity] }, 0), 2.5);
  assert.equal(linkScore({ yRange: undefined, clip: [1, 5] }, 7), 5);
  assert.equal(linkScore({ yRange: undefined, clip: [1, 5] }, -2), 1);
  assert.equal(linkScore({ yRange: undefined, clip: [-Infinity, Infinity] }, 3.25), 3.25);
  const out = new Float32Array(3);
  finishScores({ yRange: undefined, clip: [1, 5] }, Float64Array.of(9, 0.5, 2, 3), 1, out);
  assert.deepEqual([...out], [1, 2, 3]);
  // k = 1, Q = [1, 2, 3], bi = [0, 0.5, 0], offset 1: s_i = 1 + b + bi + p q_i
  const scoring = { k: 1, P: Float32Array.of(2), Q: Float32Array.of(1, 2, 3), bu: Float32Array.of(0.25), bi: Float32Array.of(0, 0.5, 0), offset: 1, yRange: undefined, clip: [-Infinity, Infinity] as [number, number] };
  const picked = new Float32Array(2);
  scoreUserVector(scoring, Float32Array.of(2), 0.25, picked, undefined, Int32Array.of(2, 1));
  assert.deepEqual([...picked], [7.25, 5.75]);
  assert.deepEqual(meanUser(scoring, 1), { vector: Float32Array.of(2), bias: 0.25 });
});

test('nn is scored its own way: no factorScoring, but movie embeddings and a fold-in start', () => {
  const model = createModel('nn', 6, 8, { embSizes: [4, 3] }, 1);
  assert.equal(model.factorScoring, undefined);
  assert.equal(model.itemEmbeddings!().k, 3);
  assert.equal(model.itemEmbeddings!().Q.length, 24);
  assert.equal(model.userVectorModel!().meanUserVector!().length, 4);
});
