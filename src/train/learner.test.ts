import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import { selectRows, type Ratings } from '../data/ratings.js';
import { readSplitFiles as readSplit } from '../data/load.js';
import { collabLearner } from './learner.js';
import { TRAIN_DEFAULTS } from './defaults.js';
import { SPLIT_CHUNK, SplitParallelOptimizer } from './split-parallel.js';

/**
 * A known-structure set: users and items each belong to one of two tastes; a user rates items of its own taste
 * 5 and the others 1. Raw ids are 100 + u and 1000 + i.
 */
function tasteRatings(nUsers = 40, nItems = 30, perUser = 18, seed = 3): Ratings {
  const rng = new RandomState(seed);
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const picks = rng.permutation(nItems).subarray(0, perUser);
    for (const i of picks) {
      users.push(userIds.addInt(100 + u));
      items.push(itemIds.addInt(1000 + i));
      ratings.push(u % 2 === i % 2 ? 5 : 1);
    }
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items), ratings: Float32Array.from(ratings), userIds, itemIds };
}

function split(r: Ratings, pct = 0.2, seed = 42): { train: Ratings; valid: Ratings } {
  const perm = new RandomState(seed).permutation(r.ratings.length);
  const cut = Math.floor(r.ratings.length * pct);
  return { train: selectRows(r, perm.subarray(cut)), valid: selectRows(r, perm.subarray(0, cut)) };
}

test('dotbias learns the two-taste structure and predicts by raw ids', async () => {
  const { train, valid } = split(tasteRatings());
  const learner = collabLearner(train, valid, { nFactors: 4, batchSize: 16, wd: 0.01 });
  await learner.fitOneCycle(30, 3e-2);
  assert.equal(learner.history.length, 30);
  const last = learner.history[29]!;
  assert.ok(last.validMse < 0.5, `valid MSE ${last.validMse}`);
  assert.ok(learner.history[0]!.validMse > last.validMse);
  assert.ok(learner.predict(100, 1000) > 4 && learner.predict(100, 1001) < 2, 'user 0 likes even items');
  assert.ok(learner.batchLosses.length === 30 * Math.ceil(train.ratings.length / 16));
  assert.ok(last.elapsed > 0 && last.elapsed === learner.trainSeconds);
});

test('a loss that overflows stops training at once, saying so and asking for a lower lr', async () => {
  const { train, valid } = split(tasteRatings());
  for (const model of ['dot', 'dotbias', 'mf'] as const) {
    const learner = collabLearner(train, valid, { model, nFactors: 4, batchSize: 16 });
    await assert.rejects(learner.fit(3, 1e12), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_OPTION');
      assert.match(err.message, /^training diverged: the loss became (NaN|Infinity) at epoch 0(, batch \d+ of \d+)? \(lr 1\.00e\+12\); stopped without saving — train again with a lower --lr \(collab lr-find suggests one\)$/);
      return true;
    }, model);
    assert.equal(learner.history.length, 0, `${model}: no epoch of NaNs recorded`);
    await learner.close();
  }
});

test('same seed gives the same model bit for bit; another seed does not', async () => {
  const { train, valid } = split(tasteRatings());
  const run = async (seed: number) => {
    const l = collabLearner(train, valid, { nFactors: 3, batchSize: 8, seed });
    await l.fitOneCycle(2, 1e-2);
    return l.exportState().tables.map((t) => Array.from(t.data));
  };
  assert.deepEqual(await run(7), await run(7));
  assert.notDeepEqual(await run(7), await run(8));
});

test('every model kind and optimizer trains on the taste set', async () => {
  const { train, valid } = split(tasteRatings());
  const cases = [
    { model: 'dot' as const, optimizer: 'sgd' as const, lr: 0.1, wd: 1e-5 },
    { model: 'dotbias' as const, optimizer: 'sgd' as const, lr: 0.5, wd: 1e-4 },
    { model: 'mf' as const, optimizer: 'sgd' as const, lr: 0.05, wd: 0.01 },
    { model: 'mf' as const, optimizer: 'adam' as const, lr: 0.03, wd: 0.01 },
  ];
  for (const c of cases) {
    const l = collabLearner(train, valid, { model: c.model, optimizer: c.optimizer, wd: c.wd, nFactors: 4, batchSize: 16 });
    await l.fit(15, c.lr);
    const mse = l.history[l.history.length - 1]!.validMse;
    assert.ok(mse < 1.5, `${c.model}/${c.optimizer}: valid MSE ${mse}`);
  }
});

test('lrFind restores the weights and suggests an lr inside the ramp', () => {
  const { train, valid } = split(tasteRatings());
  const l = collabLearner(train, valid, { nFactors: 4, batchSize: 16 });
  const before = l.exportState().tables.map((t) => Array.from(t.data));
  const r = l.lrFind({ numIt: 60 });
  assert.deepEqual(l.exportState().tables.map((t) => Array.from(t.data)), before);
  assert.ok(r.valley >= 1e-7 && r.valley <= 10);
  assert.ok(r.lrs.length > 10);
});

test('errors say what is wrong and what to do', () => {
  const { train } = split(tasteRatings());
  const other = tasteRatings(5, 5, 3);
  assert.throws(() => collabLearner(train, other), /the validation ratings must share the training ratings' id maps/);
  assert.throws(() => collabLearner(train, undefined, { batchSize: 0 }), /batchSize must be an integer >= 1, got 0/);
  assert.throws(() => collabLearner(train, undefined, { model: 'svd' as never }), /model must be one of dotbias, dot, mf, nn, hybrid, got "svd"/);
  const l = collabLearner(train, undefined);
  assert.throws(() => l.predict(99999, 1000), /unknown user id 99999: it is not in the training data/);
});

test('dot and dotbias on two threads (each batch split between them) equal one thread bit for bit, with either kernels', async () => {
  const { train, valid } = split(tasteRatings(200, 60, 30));
  // 5 factors: rows of 4 SIMD lanes plus a scalar tail, so 'wasm' runs the kernel (narrower tables step in JS);
  // a batch of 1500 runs the split kernels in more than one chunk (SPLIT_CHUNK ratings each)
  const run = async (model: 'dot' | 'dotbias', threads: number, kernels: 'wasm' | 'js', batchSize: number, optimizer: 'adam' | 'sgd' = 'adam') => {
    const l = collabLearner(train, valid, { model, nFactors: 5, batchSize, threads, wd: 0.1, kernels, optimizer });
    const split = l.optimizer instanceof SplitParallelOptimizer && l.optimizer.splitsBatches;
    await l.fitOneCycle(2, 1e-2);
    const tables = l.exportState().tables.map((t) => Array.from(t.data));
    await l.close();
    return { tables, mse: l.history[1]!.validMse, split };
  };
  assert.ok(SPLIT_CHUNK < 1500);
  for (const model of ['dot', 'dotbias'] as const) {
    for (const kernels of ['wasm', 'js'] as const) {
      for (const batchSize of [8, 1500]) {
        const what = `${model}, kernels ${kernels}, bs ${batchSize}`;
        const one = await run(model, 1, kernels, batchSize);
        const two = await run(model, 2, kernels, batchSize);
        assert.equal(two.split, true, `${what}: the batches ran split`);
        assert.deepEqual(two.tables, one.tables, what);
        assert.equal(two.mse, one.mse, what);
      }
    }
  }
  // dot's default optimizer, SGD, steps the user tables here and the item tables in the worker
  const sgdOne = await run('dot', 1, 'wasm', 8, 'sgd');
  const sgdTwo = await run('dot', 2, 'wasm', 8, 'sgd');
  assert.equal(sgdTwo.split, true);
  assert.deepEqual(sgdTwo.tables, sgdOne.tables, 'dot, SGD');
  // the two kernels round differently, so equal tables above are not both the JS loop
  assert.notDeepEqual((await run('dotbias', 1, 'wasm', 8)).tables, (await run('dotbias', 1, 'js', 8)).tables);
});

test('an lr finder before training leaves the worker\'s optimizer state alone: two threads still give one thread\'s model', async () => {
  const { train, valid } = split(tasteRatings(200, 60, 30));
  // mf under AdamW trains in minibatches with its tables stepped by side (no split batches)
  const run = async (threads: number) => {
    const l = collabLearner(train, valid, { model: 'mf', optimizer: 'adam', nFactors: 5, batchSize: 16, threads, kernels: 'wasm' });
    l.lrFind({ numIt: 30 });
    await l.fitOneCycle(1, 1e-2);
    const tables = l.exportState().tables.map((t) => Array.from(t.data));
    await l.close();
    return tables;
  };
  assert.deepEqual(await run(2), await run(1));
});

test('mf\'s blocked SGD gives the same model on 1, 2 and 3 threads, bit for bit, and the seed decides it', async () => {
  const { train, valid } = split(tasteRatings(200, 60, 30));
  const run = async (threads: number, seed = 42) => {
    const l = collabLearner(train, valid, { model: 'mf', threads, nFactors: 6, seed });
    await l.fitOneCycle(4, 0.05);
    await l.close();
    return { tables: l.exportState().tables.map((t) => Array.from(t.data)), history: l.history.map((h) => [h.trainLoss, h.validMse]) };
  };
  const one = await run(1);
  assert.ok(one.history[3]![1]! < 1.5, `valid MSE ${one.history[3]![1]}`);
  for (const threads of [2, 3]) assert.deepEqual(await run(threads), one, `${threads} threads`);
  assert.deepEqual(await run(1), one, 'again');
  assert.notDeepEqual((await run(2, 7)).tables, one.tables, 'another seed');
});

const dataDir = process.env.COLLAB_DATA_DIR;
test('defaults reach the issue-3 accuracy on the ml-100k 80/20 split', { skip: dataDir ? false : 'COLLAB_DATA_DIR not set' }, async () => {
  const d = join(dataDir!, 'splits', 'ml-100k-seed42');
  const { train, valid } = readSplit(join(d, 'train.csv'), join(d, 'valid.csv'));
  const l = collabLearner(train, valid);
  await l.fitOneCycle(TRAIN_DEFAULTS.dotbias.epochs, TRAIN_DEFAULTS.dotbias.lr);
  const mse = l.history[l.history.length - 1]!.validMse;
  assert.ok(mse <= 0.805, `valid MSE ${mse}`);
});

test('$COLLAB_MAX_EPOCHS caps the epochs a learner trains (the README walk-through sets it); a bad value is refused', async () => {
  const { cappedEpochs } = await import('./defaults.js');
  const before = process.env.COLLAB_MAX_EPOCHS;
  try {
    delete process.env.COLLAB_MAX_EPOCHS;
    assert.equal(cappedEpochs(6), 6);
    process.env.COLLAB_MAX_EPOCHS = '1';
    assert.equal(cappedEpochs(6), 1);
    process.env.COLLAB_MAX_EPOCHS = '0';
    assert.throws(() => cappedEpochs(6), { message: 'COLLAB_MAX_EPOCHS must be an integer >= 1, got "0"' });
  } finally {
    if (before === undefined) delete process.env.COLLAB_MAX_EPOCHS;
    else process.env.COLLAB_MAX_EPOCHS = before;
  }
});

test('lrFind holdSharedTables: a hybrid ramps with its feature tables at their init (the loss differs), and the weights come back', () => {
  const { train, valid } = split(tasteRatings());
  // every item carries its taste as a feature: a table every batch touches
  const nItems = train.itemIds.size;
  const itemFeatures = { names: ['even', 'odd'], offsets: Array.from({ length: nItems + 1 }, (_, i) => i), indices: Array.from({ length: nItems }, (_, i) => (train.itemIds.idOf(i) as number) % 2), weights: new Array<number>(nItems).fill(1) };
  const l = collabLearner(train, valid, { model: 'hybrid', nFactors: 4, batchSize: 16, modelConfig: { itemFeatures, pickFactors: 0 } });
  const before = l.exportState().tables.map((t) => Array.from(t.data));
  const trained = l.lrFind({ numIt: 60, stopDiv: false });
  const held = l.lrFind({ numIt: 60, stopDiv: false, holdSharedTables: true });
  assert.deepEqual(l.exportState().tables.map((t) => Array.from(t.data)), before);
  assert.deepEqual(held.losses.slice(0, 1), trained.losses.slice(0, 1)); // the first batch is scored before any step
  assert.notDeepEqual(held.losses, trained.losses);
  // a model without shared tables (dotbias) ramps the same either way
  const d = collabLearner(train, valid, { nFactors: 4, batchSize: 16 });
  assert.deepEqual(d.lrFind({ numIt: 60, holdSharedTables: true }).losses, d.lrFind({ numIt: 60 }).losses);
});
