import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemsOfUser, userItemsCsr, userRatingsCsr } from './user-items.js';

test('userItemsCsr builds one index per dataset: the same columns give the same index back', () => {
  const users = Int32Array.of(1, 0, 1, 1);
  const items = Int32Array.of(4, 2, 3, 4);
  const first = userItemsCsr(users, items, 2);
  assert.deepEqual(Array.from(itemsOfUser(first, 0)), [2]);
  assert.deepEqual(Array.from(itemsOfUser(first, 1)), [3, 4]);
  assert.equal(userItemsCsr(users, items, 2), first);
  // other columns with equal values are another dataset as far as identity goes, and get their own index
  const copy = userItemsCsr(users.slice(), items.slice(), 2);
  assert.notEqual(copy, first);
  assert.deepEqual(copy, first);
  // more users over the same columns is another index
  assert.equal(userItemsCsr(users, items, 3).nUsers, 3);
});

test('userItemsCsr rebuilds when the columns were changed in place', () => {
  const users = Int32Array.of(0, 1);
  const items = Int32Array.of(5, 6);
  const first = userItemsCsr(users, items, 2);
  items[1] = 7;
  const second = userItemsCsr(users, items, 2);
  assert.notEqual(second, first);
  assert.deepEqual(Array.from(itemsOfUser(second, 1)), [7]);
  assert.deepEqual(Array.from(itemsOfUser(first, 1)), [6]);
});

test('userItemsCsr names the row of a user index outside the range', () => {
  assert.throws(() => userItemsCsr(Int32Array.of(0, 2), Int32Array.of(1, 1), 2), {
    message: 'users row 1 has user index 2, outside 0..1; train and test must share one id map (split one Ratings with selectRows)',
  });
});

test('userRatingsCsr keeps every rating with its value, items ascending per user, built once per dataset', () => {
  const r = { users: Int32Array.of(1, 0, 1, 1), items: Int32Array.of(4, 2, 3, 1), ratings: Float32Array.of(5, 3, 4, 2) };
  const csr = userRatingsCsr(r, 3);
  assert.deepEqual(Array.from(csr.offsets), [0, 1, 4, 4]);
  assert.deepEqual(Array.from(csr.items), [2, 1, 3, 4]);
  assert.deepEqual(Array.from(csr.ratings), [3, 2, 4, 5]);
  assert.equal(userRatingsCsr(r, 3), csr);
  r.ratings[0] = 1;
  assert.deepEqual(Array.from(userRatingsCsr(r, 3).ratings), [3, 2, 4, 1]);
  assert.throws(() => userRatingsCsr({ ...r, ratings: Float32Array.of(1) }, 3), {
    message: 'users and ratings columns must have the same length, got 4 and 1',
  });
});
