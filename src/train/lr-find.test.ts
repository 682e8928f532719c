import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneCycleRampLength } from './lr-find.js';

const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const dataDir = process.env.COLLAB_DATA_DIR;
const ml100k = dataDir !== undefined && existsSync(join(dataDir, 'ml-100k', 'u.data'));

test('oneCycleRampLength is one epoch of batches, at least 100', () => {
  assert.equal(oneCycleRampLength(80_000, 64), 1250);
  assert.equal(oneCycleRampLength(80_001, 64), 1251);
  assert.equal(oneCycleRampLength(1000, 64), 100);
});

const run = (args: string[]): Record<string, unknown> => {
  const r = spawnSync(process.execPath, [main, ...args, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
};

test(
  'ml-100k: training with lr-find\'s fit_one_cycle suggestion for the default epochs comes within 0.01 valid MSE of the default lr',
  { skip: ml100k ? false : 'ml-100k not in COLLAB_DATA_DIR: the lr-find suggestion check on real data is skipped' },
  () => {
    const found = run(['lr-find', '--data', 'ml-100k']) as { suggested: number; valley: number };
    assert.ok(found.suggested > 0 && found.suggested < found.valley, `suggested ${found.suggested}, valley ${found.valley}`);
    const withSuggestion = run(['train', '--data', 'ml-100k', '--model', 'dotbias', '--lr', String(found.suggested)]) as { validMse: number };
    const withDefault = run(['train', '--data', 'ml-100k', '--model', 'dotbias']) as { validMse: number };
    assert.ok(withSuggestion.validMse < withDefault.validMse + 0.01, `suggested lr ${found.suggested}: ${withSuggestion.validMse} against the default's ${withDefault.validMse}`);
  },
);
