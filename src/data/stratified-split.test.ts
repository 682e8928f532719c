import assert from 'node:assert/strict';
import test from 'node:test';
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
