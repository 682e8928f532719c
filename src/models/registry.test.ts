import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_KINDS, MODEL_REGISTRY, isModelKind, modelEntry } from './registry.js';
import { createModel } from './factory.js';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('the registry builds every kind, knows which settings come from the data, and names the kinds it has', () => {
  assert.deepEqual([...MODEL_KINDS], ['dot', 'dotbias', 'nn', 'mf', 'hybrid']);
  for (const kind of MODEL_KINDS) assert.equal(MODEL_REGISTRY[kind].kind, kind);
  const facts = { min: 0.5, max: 5, mean: 3.5, yRange: [0, 5.5] as [number, number], biasDecay: false };
  assert.deepEqual(MODEL_REGISTRY.dotbias.fromData(facts), { yRange: [0, 5.5], biasDecay: false });
  assert.deepEqual(MODEL_REGISTRY.mf.fromData(facts), { globalMean: 3.5, clip: [0.5, 5] });
  assert.deepEqual(MODEL_REGISTRY.nn.fromData(facts), { yRange: [0, 5.5] });
  assert.deepEqual(MODEL_REGISTRY.dot.fromData(facts), {});
  // a saved mf writes infinite clip ends as null
  assert.deepEqual(MODEL_REGISTRY.mf.parse({ clip: [null, 5] }).clip, [-Infinity, 5]);
  assert.equal(createModel('mf', 3, 4, { clip: [1, null] }).predict(0, 0), 1);
  assert.equal(isModelKind('svd'), false);
  assert.throws(() => modelEntry('svd'), { message: 'model kind "svd" is not available; use one of dot, dotbias, nn, mf, hybrid' });
});

test('outside the models folder nothing switches on a model kind or looks a parameter table up by name', () => {
  const kindSwitch = /\b(kind|model\.kind|manifest\.kind)\s*===?\s*'(dot|dotbias|nn|mf|hybrid)'|switch \((model\.)?kind\)/;
  const tableByName = /params\.find\(|\.name === '(userFactors|itemFactors|userBias|itemBias)'/;
  const offenders: string[] = [];
  for (const file of sourceFiles(src)) {
    const rel = relative(src, file).split('\\').join('/');
    if (rel.startsWith('models/')) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, n) => {
      if (kindSwitch.test(line) || tableByName.test(line)) offenders.push(`${rel}:${n + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});
