import assert from 'node:assert/strict';
import test from 'node:test';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import { averagePrecisionAllRelevant, evaluateTopN, implicitProtocol } from './implicit-protocol.js';

function table(rows: [number, number, number][], userIds: IdMap, itemIds: IdMap): Ratings {
  return {
    users: Int32Array.from(rows, (r) => userIds.addInt(r[0])),
    items: Int32Array.from(rows, (r) => itemIds.addInt(r[1])),
    ratings: Float32Array.from(rows, (r) => r[2]),
    userIds,
    itemIds,
  };
}

test('Recommenders MAP divides by all relevant items; collab MAP by min(k, |R|)', () => {
  // hits at positions 1 and 3 of 3; 4 relevant: (1/1 + 2/3) / 4
  assert.equal(averagePrecisionAllRelevant([5, 9, 6], new Set([5, 6, 7, 8]), 3), (1 + 2 / 3) / 4);
  assert.ok(Number.isNaN(averagePrecisionAllRelevant([1], new Set(), 3)));
});

test('implicit protocol: every test rating is relevant (a 1-star one too), train items are not candidates', () => {
  const U = new IdMap();
  const I = new IdMap();
  for (const i of [10, 20, 30, 40]) I.addInt(i);
  const train = table([[1, 10, 5], [1, 20, 3], [2, 30, 4]], U, I);
  const test_ = table([[1, 30, 1], [2, 10, 2], [2, 40, 5]], U, I);
  const p = implicitProtocol(train, test_);
  assert.deepEqual([...p.relevant[0]!], [2]);
  assert.deepEqual([...p.relevant[1]!].sort(), [0, 3]);
  // a scorer that ranks item 2 then 3 for user 0, item 3 then 1 for user 1
  const lists: Record<number, number[]> = { 0: [2, 3], 1: [3, 1] };
  const r = evaluateTopN(p, (u) => lists[u]!, 2);
  // user 0: P@2 = 1/2, nDCG = 1; user 1: hit at 1 of 2 relevant: P@2 = 1/2, nDCG = 1 / (1 + 1/log2 3)
  assert.equal(r.users, 2);
  assert.equal(r.precision, 0.5);
  assert.ok(Math.abs(r.ndcg - (1 + 1 / (1 + 1 / Math.log2(3))) / 2) < 1e-12);
  // MAP (Recommenders): user 0: 1/1, user 1: (1/1) / 2
  assert.equal(r.mapRecommenders, (1 + 0.5) / 2);
});
