import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerboard } from '../testing/fixtures.js';
import { selectRows } from '../data/ratings.js';
import { RandomState } from '../core/random.js';
import { suggestLr } from './suggest-lr.js';
import type { LrFindResult } from './lr-find.js';

const ramp: LrFindResult = { lrs: [], losses: [], valley: 8e-2, minimum: 5e-3, diverged: false };

test('suggestLr trains each reading for the whole schedule and suggests the one with the lowest validation MSE', async () => {
  const { ratings } = checkerboard();
  const perm = new RandomState(7).permutation(ratings.ratings.length);
  const cut = Math.floor(ratings.ratings.length / 5);
  const train = selectRows(ratings, perm.subarray(cut));
  const valid = selectRows(ratings, perm.subarray(0, cut));
  const s = await suggestLr(train, valid, { nFactors: 4, batchSize: 16 }, { epochs: 3, schedule: 'one-cycle' }, ramp);
  assert.deepEqual(s.trials.map((t) => [t.rule, t.lr]), [['minimum/10', 5e-3], ['middle', 2e-2], ['valley', 8e-2]]);
  const best = s.trials.reduce((a, b) => (b.validMse < a.validMse ? b : a));
  assert.deepEqual([s.lr, s.rule], [best.lr, best.rule]);
  // the lowest lr barely moves a 3-epoch run from its init: it is not the one suggested
  assert.notEqual(s.rule, 'minimum/10');
});

test('suggestLr without validation ratings suggests minimum/10 untried', async () => {
  const { ratings } = checkerboard();
  assert.deepEqual(await suggestLr(ratings, undefined, { nFactors: 4 }, { epochs: 1, schedule: 'one-cycle' }, ramp), { lr: 5e-3, rule: 'minimum/10', trials: [] });
});
