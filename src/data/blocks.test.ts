import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { type BlockGrid, blockGrid, blockRounds, shuffleWithinBlocks } from './blocks.js';

/** A random table with a long tail on both sides, like MovieLens. */
function table(n: number, nUsers: number, nItems: number, seed: number): { users: Int32Array; items: Int32Array } {
  const rng = new RandomState(seed);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    users[r] = Math.floor(nUsers * rng.random() ** 2);
    items[r] = Math.floor(nItems * rng.random() ** 3);
  }
  return { users, items };
}

/** Every rating row is in `rows` exactly once, inside the block of its user bin and item bin. */
function assertEveryRowInItsBlock(g: BlockGrid, users: Int32Array, items: Int32Array): void {
  const seen = new Uint8Array(users.length);
  for (let b = 0; b < g.bins * g.bins; b++) {
    for (let j = g.blockStart[b]!; j < g.blockStart[b + 1]!; j++) {
      const r = g.rows[j]!;
      seen[r]!++;
      assert.equal(g.userBin[users[r]!]! * g.bins + g.itemBin[items[r]!]!, b);
    }
  }
  assert.ok(seen.every((c) => c === 1), 'each row once');
}

test('the grid puts every rating row in exactly one block, the block of its user bin and item bin', () => {
  const { users, items } = table(20000, 300, 500, 1);
  const g = blockGrid(users, items, 300, 500, 4, new RandomState(7));
  assert.equal(g.blockStart.length, 17);
  assert.equal(g.blockStart[16], 20000);
  assertEveryRowInItsBlock(g, users, items);
  // rows keep table order inside a block
  for (let b = 0; b < 16; b++) for (let j = g.blockStart[b]! + 1; j < g.blockStart[b + 1]!; j++) assert.ok(g.rows[j]! > g.rows[j - 1]!);
});

test('bins hold about the same number of ratings even with a heavy head', () => {
  const { users, items } = table(50000, 1000, 2000, 2);
  const g = blockGrid(users, items, 1000, 2000, 4, new RandomState(3));
  const perUserBin = new Float64Array(4);
  const perItemBin = new Float64Array(4);
  for (let r = 0; r < users.length; r++) {
    perUserBin[g.userBin[users[r]!]!]!++;
    perItemBin[g.itemBin[items[r]!]!]!++;
  }
  for (const load of [perUserBin, perItemBin]) {
    const max = Math.max(...load);
    const min = Math.min(...load);
    assert.ok(max / min < 1.05, `bins ${[...load].join(', ')} differ by more than 5%`);
  }
});

test('the grid and the rounds are seeded: the same seed gives the same, another seed another', () => {
  const { users, items } = table(5000, 100, 200, 3);
  const a = blockGrid(users, items, 100, 200, 3, new RandomState(5));
  const b = blockGrid(users, items, 100, 200, 3, new RandomState(5));
  const c = blockGrid(users, items, 100, 200, 3, new RandomState(6));
  assert.deepEqual(a.rows, b.rows);
  assert.notDeepEqual(a.userBin, c.userBin);
  assert.deepEqual(blockRounds(5, new RandomState(9)), blockRounds(5, new RandomState(9)));
});

test('each round holds blocks that share no user bin and no item bin, and an epoch visits every block once', () => {
  for (const bins of [1, 2, 5, 8]) {
    const rounds = blockRounds(bins, new RandomState(bins));
    assert.equal(rounds.length, bins);
    const visits = new Int32Array(bins * bins);
    for (const round of rounds) {
      const rowsUsed = new Set<number>();
      const colsUsed = new Set<number>();
      for (const block of round) {
        visits[block]!++;
        rowsUsed.add(Math.floor(block / bins));
        colsUsed.add(block % bins);
      }
      assert.equal(rowsUsed.size, bins, 'no user bin twice in a round');
      assert.equal(colsUsed.size, bins, 'no item bin twice in a round');
    }
    assert.ok(visits.every((v) => v === 1), `bins ${bins}: every block once`);
  }
});

test('shuffling within blocks keeps each row in its block', () => {
  const { users, items } = table(3000, 50, 80, 4);
  const g = blockGrid(users, items, 50, 80, 3, new RandomState(1));
  const before = g.rows.slice();
  shuffleWithinBlocks(g, new RandomState(2));
  assert.notDeepEqual(g.rows, before);
  for (let b = 0; b < 9; b++) {
    const from = g.blockStart[b]!;
    const to = g.blockStart[b + 1]!;
    assert.deepEqual([...g.rows.subarray(from, to)].sort((x, y) => x - y), [...before.subarray(from, to)]);
  }
});

test('by user, each block holds its rows by ascending user, every row once, and the order is seeded', () => {
  const { users, items } = table(20000, 300, 500, 5);
  const g = blockGrid(users, items, 300, 500, 4, new RandomState(7), { byUser: true });
  const h = blockGrid(users, items, 300, 500, 4, new RandomState(7), { byUser: true });
  assert.deepEqual(g.rows, h.rows);
  assertEveryRowInItsBlock(g, users, items);
  for (let b = 0; b < 16; b++) {
    for (let j = g.blockStart[b]! + 1; j < g.blockStart[b + 1]!; j++) assert.ok(users[g.rows[j]!]! >= users[g.rows[j - 1]!]!, 'ascending users');
  }
  const plain = blockGrid(users, items, 300, 500, 4, new RandomState(7));
  assert.deepEqual(plain.blockStart, g.blockStart, 'the same blocks');
});
