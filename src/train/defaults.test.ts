import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODEL_KINDS } from '../models/registry.js';
import { CACHE_FIT_BYTES } from '../kernels/param-memory.js';
import { DEFAULT_THREADS_TEXT, LIBRARY_DEFAULTS, TRAIN_DEFAULTS, defaultModel, defaultThreads, defaultsByKind, defaultsLine, defaultsTable } from './defaults.js';
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
