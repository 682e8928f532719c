import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneCycleCandidates, oneCycleRampLength, type LrFindResult } from './lr-find.js';

const execFileP = promisify(execFile);

const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const dataDir = process.env.COLLAB_DATA_DIR;
const ml100k = dataDir !== undefined && existsSync(join(dataDir, 'ml-100k', 'u.data'));

test('oneCycleRampLength is one epoch of batches, at least 100', () => {
  assert.equal(oneCycleRampLength(80_000, 64), 1250);
  assert.equal(oneCycleRampLength(80_001, 64), 1251);
  assert.equal(oneCycleRampLength(1000, 64), 100);
});

const run = async (args: string[]): Promise<Record<string, unknown>> => {
  const r = await execFileP(process.execPath, [main, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
};

test('oneCycleCandidates reads minimum/10, the geometric middle and the valley, to two digits', () => {
  const ramp: LrFindResult = { lrs: [], losses: [], valley: 5.61e-3, minimum: 2.236e-3, diverged: true };
  assert.deepEqual(oneCycleCandidates(ramp), [
    { lr: 2.2e-3, rule: 'minimum/10' },
    { lr: 3.5e-3, rule: 'middle' },
    { lr: 5.6e-3, rule: 'valley' },
  ]);
});

test(
  'ml-100k: lr-find ramps the model train trains by default, and training at its suggestion comes within 0.01 valid MSE of the default lr, for the hybrid and dotbias',
  { skip: ml100k ? false : 'ml-100k not in COLLAB_DATA_DIR: the lr-find suggestion check on real data is skipped' },
  async () => {
    // two processes at a time: the hybrid's trainings are the long ones
    const [hybrid, dotbias] = (await Promise.all([run(['lr-find', '--data', 'ml-100k']), run(['lr-find', '--data', 'ml-100k', '--model', 'dotbias'])])) as { model: string; suggested: number; valley: number }[];
    assert.equal(hybrid!.model, 'hybrid');
    assert.equal(dotbias!.model, 'dotbias');
    for (const found of [hybrid!, dotbias!]) {
      const [withSuggestion, withDefault] = (await Promise.all([
        run(['train', '--data', 'ml-100k', '--model', found.model, '--lr', String(found.suggested)]),
        run(['train', '--data', 'ml-100k', '--model', found.model]),
      ])) as { validMse: number; lr: number }[];
      assert.ok(found.suggested > 0 && found.suggested < found.valley, `${found.model}: suggested ${found.suggested}, valley ${found.valley}`);
      assert.ok(withSuggestion!.validMse < withDefault!.validMse + 0.01, `${found.model}: suggested lr ${found.suggested}: ${withSuggestion!.validMse} against the default's ${withDefault!.validMse}`);
    }
  },
);
