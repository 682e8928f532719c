import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerboard } from '../testing/fixtures.js';
import { randomSplit } from '../data/split.js';
import { compareModels, summarizeFolds, type ComparisonRow } from './compare.js';

test('compareModels: baselines and a model on one split, the model ahead of the global mean', async () => {
  const { ratings } = checkerboard(60, 30, 0.7, 5);
  const split = randomSplit(ratings, { validPct: 0.2, seed: 1 });
  const rows = await compareModels(split.train, split.valid, { models: ['dotbias'], k: 5 });
  assert.deepEqual(rows.map((r) => r.name), ['global mean', 'bias baseline', 'popularity', 'dotbias']);
  const byName = new Map(rows.map((r) => [r.name, r]));
  assert.ok(Number.isNaN(byName.get('popularity')!.rmse), 'popularity predicts no rating');
  assert.ok(Number.isNaN(byName.get('global mean')!.precision), 'the global mean does not rank');
  assert.ok(byName.get('dotbias')!.rmse < byName.get('global mean')!.rmse);
  assert.ok(byName.get('dotbias')!.precision > byName.get('popularity')!.precision);
});

test('summarizeFolds: mean and sample std per column', () => {
  const row = (name: string, mse: number): ComparisonRow => ({ name, mse, rmse: Math.sqrt(mse), mae: 0, precision: 0.1, recall: 0, ndcg: 0, map: 0, trainSeconds: 1 });
  const [s] = summarizeFolds([[row('m', 1)], [row('m', 3)]]);
  assert.equal(s!.mean.mse, 2);
  assert.equal(s!.std.mse, Math.SQRT2); // sqrt(((1-2)^2 + (3-2)^2) / (2 - 1))
  assert.equal(s!.std.precision, 0);
});
