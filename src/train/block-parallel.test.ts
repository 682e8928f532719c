import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerboard } from '../testing/fixtures.js';
import { selectRows } from '../data/ratings.js';
import { RandomState } from '../core/random.js';
import { collabLearner, blockBins, type CollabLearnerOptions } from './learner.js';
import { makeParam } from '../models/init.js';

function data() {
  const { ratings } = checkerboard(60, 45, 0.6, 5);
  const perm = new RandomState(9).permutation(ratings.ratings.length);
  const cut = Math.floor(ratings.ratings.length * 0.2);
  return { train: selectRows(ratings, perm.subarray(cut)), valid: selectRows(ratings, perm.subarray(0, cut)) };
}

async function tables(options: CollabLearnerOptions): Promise<{ values: Float32Array[]; mse: number; losses: number[] }> {
  const { train, valid } = data();
  const learner = collabLearner(train, valid, { batchSize: 16, ...options });
  try {
    await learner.fitOneCycle(2, 1e-2);
    learner.optimizer.flush();
    return { values: learner.model.params.map((p) => p.value.slice()), mse: learner.history.at(-1)!.validMse, losses: learner.batchLosses.slice() };
  } finally {
    await learner.close();
  }
}

test('blocked training gives the same tables, losses and error on one thread and two (dotbias and dot with AdamW)', async () => {
  for (const model of ['dotbias', 'dot'] as const) {
    const one = await tables({ model, optimizer: 'adam', blocks: 4, threads: 1 });
    const two = await tables({ model, optimizer: 'adam', blocks: 4, threads: 2 });
    assert.ok(Number.isFinite(one.mse) && (model === 'dot' || one.mse < 2), `${model}: blocked training learns (MSE ${one.mse})`);
    assert.equal(two.mse, one.mse, model);
    assert.deepEqual(two.losses, one.losses, model);
    two.values.forEach((v, j) => assert.deepEqual(v, one.values[j], `${model} table ${j}`));
  }
});

test('blocked order is seeded: the same seed gives the same tables, another seed other ones', async () => {
  const a = await tables({ blocks: 3, seed: 5 });
  const b = await tables({ blocks: 3, seed: 5 });
  const c = await tables({ blocks: 3, seed: 6 });
  assert.deepEqual(b.values[0], a.values[0]);
  assert.notDeepEqual(c.values[0], a.values[0]);
});

test('auto blocking leaves tables that fit the cache in one shuffled order, and cuts big ones into bins', () => {
  const small = [makeParam('userFactors', 1000, 50, true), makeParam('itemFactors', 2000, 50, true)];
  assert.equal(blockBins('auto', small, 1000, 2000), 1);
  const big = [{ ...small[0]!, rows: 100_000 }, { ...small[1]!, rows: 30_000 }];
  const bins = blockBins('auto', big, 100_000, 30_000);
  assert.ok(bins > 1 && bins <= 256, `bins ${bins}`);
  assert.equal(blockBins(7, small, 1000, 2000), 7);
  assert.equal(blockBins(7, small, 5, 2000), 5, 'never more bins than users');
});
