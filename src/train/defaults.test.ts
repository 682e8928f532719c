import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODEL_KINDS } from '../models/registry.js';
import { CACHE_FIT_BYTES } from '../kernels/param-memory.js';
import { DEFAULT_THREADS_TEXT, LIBRARY_DEFAULTS, TRAIN_DEFAULTS, WD_TUNED_RATINGS, defaultModel, defaultThreads, defaultsByKind, defaultsLine, defaultsTable, wdForSize, wdHint } from './defaults.js';
import { collabLearner } from './learner.js';
import { checkerboard } from '../testing/fixtures.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

test('the README states the defaults the table holds: its train line and its table per model kind', () => {
  assert.equal(
    defaultsLine(),
    '# train (defaults: hybrid when the data has metadata, else dotbias; 50 factors, AdamW one-cycle,\n' +
      '# bs 64, 6 epochs, lr 4e-3, wd 0.2 on the embeddings, none on the biases,\n' +
      "# threads 2 on two cores for a hybrid's pick head, or tables and their training state past 24 MiB; else 1)",
  );
  assert.ok(readme.includes(defaultsLine()), 'README.md holds defaultsLine() word for word');
  assert.ok(readme.includes(defaultsTable()), `README.md holds defaultsTable() word for word:\n${defaultsTable()}`);
  assert.match(defaultsTable(), /\| nn \| fastai EmbeddingNN \| 50 \| 5 \| AdamW one-cycle \| 5e-3 \| 0\.1 \| \(no biases\) \| 64 \| 0\.9 \|/);
});

test('every kind of the registry has a recipe, and help texts list each kind\'s default', () => {
  assert.deepEqual([...Object.keys(TRAIN_DEFAULTS)].sort(), [...MODEL_KINDS].sort());
  assert.equal(defaultsByKind('wd'), 'dotbias 0.2, dot 1e-5, mf 0.08, nn 0.1, hybrid 0.2');
  assert.equal(defaultsByKind('lr'), 'dotbias 4e-3, dot 0.1, mf 0.07, nn 5e-3, hybrid 4e-3');
  assert.equal(defaultsByKind('nFactors'), '50');
  assert.equal(defaultModel(true), 'hybrid');
  assert.equal(defaultModel(false), 'dotbias');
  assert.equal(LIBRARY_DEFAULTS.seed, 42);
  assert.equal(DEFAULT_THREADS_TEXT, "2 on two cores for a hybrid's pick head, or tables and their training state past 24 MiB; else 1");
});

test('threads: one table for the library and the CLI, two for a hybrid with a pick head and for factor tables past the cache, on two cores', () => {
  assert.equal(defaultThreads('hybrid', {}, 2), 2);
  assert.equal(defaultThreads('hybrid', { pickFactors: 0 }, 2), 1);
  assert.equal(defaultThreads('hybrid', {}, 1), 1);
  assert.equal(defaultThreads('dotbias', {}, 8), 1);
  assert.equal(defaultThreads('mf', {}, 8), 1);
  for (const kind of ['dot', 'dotbias', 'mf'] as const) {
    assert.equal(defaultThreads(kind, {}, 2, CACHE_FIT_BYTES), 1, `${kind} at the cache's size`);
    assert.equal(defaultThreads(kind, {}, 2, CACHE_FIT_BYTES + 1), 2, `${kind} past it`);
    assert.equal(defaultThreads(kind, {}, 1, CACHE_FIT_BYTES + 1), 1, `${kind} on one core`);
  }
  assert.equal(defaultThreads('nn', {}, 2, 10 * CACHE_FIT_BYTES), 1);
  const train = checkerboard().ratings;
  const learner = collabLearner(train, undefined, { model: 'dotbias', nFactors: 2 });
  assert.equal(learner.threads, 1);
  assert.equal(learner.wd, TRAIN_DEFAULTS.dotbias.wd);
});

test('wdForSize keeps a row\'s decay per epoch: wd scaled by the tuned size over the training ratings, never up', () => {
  assert.equal(wdForSize(0.2, 8_000_000), 0.002);
  assert.equal(wdForSize(0.2, 20_000_000), 0.0008);
  assert.equal(wdForSize(0.1, 1_000_000), 0.008);
  assert.equal(wdForSize(0.2, WD_TUNED_RATINGS), 0.2);
  assert.equal(wdForSize(0.2, 1_000), 0.2, 'a smaller set keeps the tuned wd');
});

test('wdHint names the scaled wd for minibatch training on 10x the tuned size, and stays quiet otherwise', () => {
  const hint = wdHint('dotbias', 'adam', false, 8_000_000);
  assert.ok(hint !== undefined);
  assert.match(hint, /wd 0\.2 is tuned on 80,000 ratings; AdamW decays every row at every step/);
  assert.match(hint, /on 100x the ratings, rows decay 100x as much per epoch/);
  assert.match(hint, /--wd auto \(here 0\.002\) keeps each row's decay per epoch as on 80,000 ratings/);
  assert.match(wdHint('nn', 'adam', false, 1_000_000)!, /here 0\.008/);
  assert.match(wdHint('mf', 'adam', false, 8_000_000)!, /AdamW decays every row/, 'mf in minibatches decays every row too');
  assert.match(wdHint('dotbias', 'sgd', false, 8_000_000)!, /SGD decays every row/);
  assert.equal(wdHint('dotbias', 'adam', true, 8_000_000), undefined, 'a wd the user gave is theirs');
  assert.equal(wdHint('dotbias', 'adam', false, 10 * WD_TUNED_RATINGS - 1), undefined, 'below 10x the tuned size');
  assert.equal(wdHint('mf', 'sgd', false, 8_000_000), undefined, 'per-rating SGD decays a row only when it is rated');
  assert.equal(wdHint('dot', 'sgd', false, 8_000_000), undefined, "dot's 1e-5 decays too little to matter");
});

test("wd 'auto' is the kind's wd scaled to the training ratings; mf's per-rating reg and a small set keep theirs", () => {
  const big = checkerboard(500, 400, 0.9).ratings;
  const n = big.ratings.length;
  assert.ok(n > 2 * WD_TUNED_RATINGS, `${n} ratings`);
  const dotbias = collabLearner(big, undefined, { model: 'dotbias', nFactors: 2, wd: 'auto', threads: 1 });
  assert.equal(dotbias.wd, wdForSize(TRAIN_DEFAULTS.dotbias.wd, n));
  assert.ok(dotbias.wd < TRAIN_DEFAULTS.dotbias.wd / 2);
  assert.equal(collabLearner(big, undefined, { model: 'mf', nFactors: 2, wd: 'auto', threads: 1 }).wd, TRAIN_DEFAULTS.mf.wd);
  assert.equal(collabLearner(big, undefined, { model: 'mf', optimizer: 'adam', nFactors: 2, wd: 'auto', threads: 1 }).wd, wdForSize(TRAIN_DEFAULTS.mf.wd, n), 'mf in AdamW minibatches decays every row at every step');
  assert.equal(collabLearner(checkerboard().ratings, undefined, { model: 'dotbias', nFactors: 2, wd: 'auto' }).wd, TRAIN_DEFAULTS.dotbias.wd);
});
