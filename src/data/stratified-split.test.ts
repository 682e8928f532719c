import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { RandomState } from '../core/random.js';
import { IdMap } from './id-map.js';
import type { Ratings } from './ratings.js';
import { roundHalfEven, stratifiedSplit } from './split.js';

test('roundHalfEven is Python round(): halves go to the even neighbour', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 16.5, 19.5, 2.4, 2.6, 15].map(roundHalfEven), [0, 2, 2, 16, 20, 2, 3, 15]);
});

/** n_u ratings for users 1..sizes.length, interleaved so a user's rows are not contiguous. */
function interleaved(sizes: number[]): Ratings {
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const users: number[] = [];
  const items: number[] = [];
  const max = Math.max(...sizes);
  for (let j = 0; j < max; j++) {
    sizes.forEach((n, u) => {
      if (j < n) {
        users.push(userIds.addInt(u + 1));
        items.push(itemIds.addInt(100 + j));
      }
    });
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length).fill(4), userIds, itemIds };
}

test('stratifiedSplit keeps round(0.75 n_u) of each user in train, chosen by a fresh RandomState(seed) per user', () => {
  const sizes = [20, 22, 26, 4, 1];
  const r = interleaved(sizes);
  const s = stratifiedSplit(r, { ratio: 0.75, seed: 42 });
  const trainCount = new Map<number, number>();
  for (let t = 0; t < s.train.users.length; t++) trainCount.set(s.train.users[t]!, (trainCount.get(s.train.users[t]!) ?? 0) + 1);
  // round(15) = 15, round(16.5) = 16, round(19.5) = 20, round(3) = 3, round(0.75) = 1 (the user stays whole)
  assert.deepEqual([0, 1, 2, 3, 4].map((u) => trainCount.get(u) ?? 0), [15, 16, 20, 3, 1]);
  assert.equal(s.usersHeldOut, 4);
  assert.equal(s.usersKeptInTrain, 1);
  // user 0's train items are its rows (in source order) at the first 15 positions of permutation(20)
  const perm = new RandomState(42).permutation(20);
  const expected = Array.from(perm.subarray(0, 15), (j) => 100 + j).sort((a, b) => a - b);
  const got: number[] = [];
  for (let t = 0; t < s.train.users.length; t++) if (s.train.users[t] === 0) got.push(Number(r.itemIds.idOf(s.train.items[t]!)));
  assert.deepEqual(got.sort((a, b) => a - b), expected);
  assert.equal(s.method, 'stratified');
  // same seed, same split; another seed, another split
  assert.deepEqual(stratifiedSplit(r, { ratio: 0.75, seed: 42 }).valid.items, s.valid.items);
  assert.notDeepEqual(stratifiedSplit(r, { ratio: 0.75, seed: 7 }).valid.items, s.valid.items);
});

test('stratifiedSplit refuses a ratio outside (0, 1)', () => {
  assert.throws(() => stratifiedSplit(interleaved([4]), { ratio: 1.5 }), /ratio must be a number greater than 0 and less than 1 \(the fraction of each user's ratings kept in train, e\.g\. 0\.75\), got 1\.5/);
});

test('collab split --by-user 0.75 --stratified writes the Recommenders split; --stratified alone is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-strat-'));
  try {
    const lines = ['userId,movieId,rating'];
    for (let u = 1; u <= 3; u++) for (let i = 1; i <= 22; i++) lines.push(`${u},${i},4`);
    writeFileSync(join(dir, 'r.csv'), lines.join('\n') + '\n');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const runner = [
      "import { Command } from 'commander';",
      "import { registerSplitCommand } from './dist/cli/split.js';",
      "const p = new Command('collab').exitOverride();",
      'registerSplitCommand(p);',
      "await p.parseAsync(process.argv.slice(1).filter((a) => a !== '--'), { from: 'user' });",
    ].join('\n');
    const run = (...args: string[]) => spawnSync(process.execPath, ['--input-type=module', '-e', runner, '--', 'split', ...args], { cwd: root, encoding: 'utf8' });
    const r = run(join(dir, 'r.csv'), '--out', join(dir, 'out'), '--by-user', '0.75', '--stratified', '--seed', '42', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    // round(0.75 · 22) = round(16.5) = 16 per user
    assert.equal(out.train, 48);
    assert.equal(out.valid, 18);
    assert.equal(out.by, 'stratified');
    assert.equal(out.trainRatio, 0.75);
    const bad = run(join(dir, 'r.csv'), '--out', join(dir, 'out'), '--stratified');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--stratified needs --by-user <fraction> \(e\.g\. --by-user 0\.75\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
