import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDatasetPath } from './locate.js';

const root = mkdtempSync(join(tmpdir(), 'collab-locate-'));
after(() => rmSync(root, { recursive: true, force: true }));
process.env.COLLAB_HOME = join(root, 'home');
const first = join(root, 'first');
const second = join(root, 'second');
for (const [dir, file] of [[first, 'u1.base'], [second, 'u1.test'], [join(root, 'home', 'datasets'), 'u2.test']] as const) {
  mkdirSync(join(dir, 'ml-100k'), { recursive: true });
  writeFileSync(join(dir, 'ml-100k', file), '1\t1\t5\t0\n');
}

test('resolveDatasetPath finds a file under a dataset name in --data-dir, then $COLLAB_DATA_DIR, then the cache', () => {
  const env = process.env.COLLAB_DATA_DIR;
  process.env.COLLAB_DATA_DIR = second;
  try {
    assert.equal(resolveDatasetPath('ml-100k/u1.base', first), join(first, 'ml-100k', 'u1.base'));
    assert.equal(resolveDatasetPath('ml-100k/u1.test', first), join(second, 'ml-100k', 'u1.test'));
    assert.equal(resolveDatasetPath('ml-100k/u2.test', first), join(root, 'home', 'datasets', 'ml-100k', 'u2.test'));
  } finally {
    if (env === undefined) delete process.env.COLLAB_DATA_DIR;
    else process.env.COLLAB_DATA_DIR = env;
  }
});

test('resolveDatasetPath leaves existing paths, other names and missing files as given', () => {
  const existing = join(first, 'ml-100k', 'u1.base');
  assert.equal(resolveDatasetPath(existing, second), existing);
  assert.equal(resolveDatasetPath('ml-5m/u1.base', first), 'ml-5m/u1.base');
  assert.equal(resolveDatasetPath('ml-100k/u9.base', first), 'ml-100k/u9.base');
  assert.equal(resolveDatasetPath('ml-100k', first), 'ml-100k');
});
