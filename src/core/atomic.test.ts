import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openAtomicWriter, removeStaleTemps, writeFileAtomic } from './atomic.js';

test('openAtomicWriter: nothing under the target until commit; abort keeps the old file and removes the temp', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'out.csv');
  writeFileSync(path, 'old\n');

  const a = openAtomicWriter(path);
  assert.equal(a.write('a,b\n'), 4);
  assert.equal(a.write(Buffer.from('1,2\nXX'), 4), 4);
  assert.equal(readFileSync(path, 'utf8'), 'old\n');
  a.commit();
  assert.equal(readFileSync(path, 'utf8'), 'a,b\n1,2\n');
  assert.deepEqual(readdirSync(dir), ['out.csv']);

  const b = openAtomicWriter(path);
  b.write('half');
  b.abort();
  assert.equal(readFileSync(path, 'utf8'), 'a,b\n1,2\n');
  assert.deepEqual(readdirSync(dir), ['out.csv']);

  writeFileAtomic(path, 'x', new Uint8Array([10]));
  assert.equal(readFileSync(path, 'utf8'), 'x\n');
  assert.deepEqual(readdirSync(dir), ['out.csv']);
});

test('a killed writer\'s temp file is removed by the next write of the same target; a live writer\'s and other targets\' are kept', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dead = spawnSync(process.execPath, ['-e', '']).pid!; // a process id that has exited
  const stale = `.out.csv.${dead}.1700000000000.tmp`;
  const live = `.out.csv.${process.ppid}.1700000000000.tmp`;
  const other = `.other.csv.${dead}.1700000000000.tmp`;
  for (const name of [stale, live, other]) writeFileSync(join(dir, name), 'half');
  writeFileAtomic(join(dir, 'out.csv'), 'new\n');
  assert.deepEqual(readdirSync(dir).sort(), [live, other, 'out.csv'].sort());
  assert.deepEqual(removeStaleTemps(dir, (target) => target === 'other.csv'), [other]);
});
