import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relevantByUser, rankingProtocol, PROTOCOL_DESCRIPTION } from './protocol.js';
import { userItemsCsr, itemsOfUser, candidateItems } from '../data/user-items.js';

const train = {
  users: Int32Array.of(0, 0, 1, 1, 0),
  items: Int32Array.of(3, 1, 2, 2, 1),
  ratings: Float32Array.of(5, 4, 3, 3, 4),
};
const test_ = {
  users: Int32Array.of(0, 0, 1, 2),
  items: Int32Array.of(0, 4, 3, 1),
  ratings: Float32Array.of(4, 3.5, 5, 2),
};

test('userItemsCsr sorts each row and drops duplicates', () => {
  const csr = userItemsCsr(train.users, train.items, 3);
  assert.deepEqual(Array.from(csr.offsets), [0, 2, 3, 3]);
  assert.deepEqual(Array.from(csr.items), [1, 3, 2]);
  assert.deepEqual(Array.from(itemsOfUser(csr, 0)), [1, 3]);
  assert.deepEqual(Array.from(itemsOfUser(csr, 2)), []);
});

test('candidates are all items the user did not rate in training', () => {
  const csr = userItemsCsr(train.users, train.items, 3);
  assert.deepEqual(Array.from(candidateItems(csr, 0, 5)), [0, 2, 4]);
  assert.deepEqual(Array.from(candidateItems(csr, 2, 5)), [0, 1, 2, 3, 4]);
});

test('relevant = test ratings >= threshold (default 4); users with none are skipped and counted', () => {
  const rel = relevantByUser(test_, 3);
  assert.deepEqual([...rel[0]!], [0]);
  assert.deepEqual([...rel[1]!], [3]);
  assert.equal(rel[2], undefined);
  assert.deepEqual([...relevantByUser(test_, 3, 3.5)[0]!].sort(), [0, 4]);

  const p = rankingProtocol(train, test_, { nUsers: 3, nItems: 5 });
  assert.equal(p.threshold, 4);
  assert.deepEqual(Array.from(p.users), [0, 1]);
  assert.equal(p.skippedUsers, 1);
  assert.deepEqual(Array.from(p.trainItems.items), [1, 3, 2]);
  // sizes default to 1 + the largest index seen in either table
  const q = rankingProtocol(train, test_);
  assert.equal(q.nUsers, 3);
  assert.equal(q.nItems, 5);
  assert.match(PROTOCOL_DESCRIPTION, /did not rate in training/);
});

test('indices outside the sizes are refused with a hint about shared id maps', () => {
  assert.throws(() => rankingProtocol(train, test_, { nUsers: 3, nItems: 4 }), {
    message: 'test.items row 1 has item index 4, outside 0..3; train and test must share one id map (split one Ratings with selectRows)',
  });
  assert.throws(() => userItemsCsr(Int32Array.of(0), Int32Array.of(0, 1), 1), {
    message: 'users and items columns must have the same length, got 1 and 2',
  });
});
