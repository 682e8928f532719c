import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CollabError } from '../core/errors.js';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import { checkUnknownShare, unknownShare } from './unknown-share.js';

/** Ratings of (raw user, raw movie) pairs with their own id maps. */
function table(pairs: [number, number][]): Ratings {
  const userIds = new IdMap();
  const itemIds = new IdMap();
  return {
    users: Int32Array.from(pairs, ([u]) => userIds.add(u)),
    items: Int32Array.from(pairs, ([, i]) => itemIds.add(i)),
    ratings: new Float32Array(pairs.length).fill(4),
    userIds,
    itemIds,
  };
}

const train = table([[1, 10], [1, 20], [2, 10], [3, 30]]);

test('unknownShare counts distinct test users and movies with no training rating, and the ratings they carry', () => {
  const s = unknownShare(train, table([[1, 10], [2, 20], [9, 10], [9, 40], [1, 40]]));
  assert.deepEqual(s.users, { unknown: 1, total: 3 });
  assert.deepEqual(s.movies, { unknown: 1, total: 3 });
  assert.deepEqual(s.userRatings, { unknown: 2, total: 5 });
  assert.deepEqual(s.movieRatings, { unknown: 2, total: 5 });
  assert.equal(
    s.warning,
    'the model never trained on 1 of the 3 test users (40% of the test ratings) and 1 of the 3 test movies (40% of the test ratings): ' +
      'is this test data from the dataset the model was trained on? Their ratings are predicted as the training mean',
  );
});

test('unknownShare: at most 5% of the test ratings unknown is no warning; an id in the maps without a training rating is unknown', () => {
  const pairs: [number, number][] = [];
  for (let t = 0; t < 20; t++) pairs.push([1, 10]);
  pairs.push([1, 99]); // 1 of 21 ratings (4.8%) is of an unknown movie
  assert.equal(unknownShare(train, table(pairs)).warning, undefined);
  const shared = { ...train, users: train.users.subarray(0, 3), items: train.items.subarray(0, 3), ratings: train.ratings.subarray(0, 3) };
  assert.deepEqual(unknownShare(shared, table([[3, 30]])).users, { unknown: 1, total: 1 });
});

test('checkUnknownShare warns, or under strict refuses naming the test file', () => {
  const s = unknownShare(train, table([[9, 99]]));
  assert.match(checkUnknownShare(s, 'test.csv', false)!, /^warning: the model never trained on 1 of the 1 test users \(100% of the test ratings\)/);
  assert.throws(
    () => checkUnknownShare(s, 'test.csv', true),
    (err: unknown) => err instanceof CollabError && err.code === 'BAD_FILE' && err.message.startsWith('test.csv: the model never trained on') && err.message.endsWith('(refused under --strict)'),
  );
  assert.equal(checkUnknownShare(unknownShare(train, train), 'train.csv', true), undefined);
});
