import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap } from './id-map.js';
import { knownItems, seenIndex, seenItemsOf } from './seen.js';

test('the seen set joins the training and validation pairs per user, sorted, without duplicates', () => {
  const train = { users: Int32Array.from([0, 0, 1, 2]), items: Int32Array.from([5, 1, 3, 0]) };
  const valid = { users: Int32Array.from([0, 1, 1]), items: Int32Array.from([2, 3, 4]) };
  const csr = seenIndex(train, 4, valid);
  assert.deepEqual([...seenItemsOf(csr, 0)], [1, 2, 5]);
  assert.deepEqual([...seenItemsOf(csr, 1)], [3, 4]);
  assert.deepEqual([...seenItemsOf(csr, 2)], [0]);
  assert.deepEqual([...seenItemsOf(csr, 3)], [], 'a user with no ratings has seen nothing');
  assert.deepEqual([...seenItemsOf(csr, 0, Int32Array.from([7, 2, 0]))], [0, 1, 2, 5, 7], 'extra items (a database) merge in');
  assert.deepEqual([...seenItemsOf(csr, -1, Int32Array.from([3, 1, 3]))], [1, 3], 'someone the model never saw has only the extra');
  assert.deepEqual([...seenItemsOf(seenIndex(train, 4), 0)], [1, 5], 'no validation part: the training ratings alone');
});

test('knownItems keeps the raw ids the model knows and drops the others', () => {
  const ids = IdMap.fromIds([10, 20, 30]);
  assert.deepEqual([...knownItems(ids, [30, 99, 10])!], [2, 0]);
  assert.equal(knownItems(ids, []), undefined);
  assert.equal(knownItems(ids, undefined), undefined);
});
