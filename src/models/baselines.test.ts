import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globalMean, fitBiasBaseline, predictBaseline, popularityScores, popularityRanking } from './baselines.js';

// ratings (user, item, r): (0,0,5), (0,1,3), (1,0,4); mu = 4
const data = { users: Int32Array.of(0, 0, 1), items: Int32Array.of(0, 1, 0), ratings: Float32Array.of(5, 3, 4) };
const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('global mean', () => {
  assert.equal(globalMean(data.ratings), 4);
  assert.ok(Number.isNaN(globalMean(new Float32Array(0))));
});

test('one ALS round without shrinkage matches the hand values', () => {
  // b_i0 = ((5-4) + (4-4)) / 2 = 0.5, b_i1 = (3-4) / 1 = -1
  // b_u0 = ((5-4-0.5) + (3-4+1)) / 2 = 0.25, b_u1 = (4-4-0.5) / 1 = -0.5
  const b = fitBiasBaseline(data, 2, 2, { regUser: 0, regItem: 0, epochs: 1 });
  assert.equal(b.mu, 4);
  assert.deepEqual(Array.from(b.itemBias), [0.5, -1]);
  assert.deepEqual(Array.from(b.userBias), [0.25, -0.5]);
});

test('one ALS round with the Surprise defaults (regItem 10, regUser 15) matches the hand values', () => {
  // b_i0 = 1 / (10 + 2) = 1/12, b_i1 = -1 / (10 + 1) = -1/11
  // b_u0 = ((1 - 1/12) + (-1 + 1/11)) / (15 + 2) = (1/132) / 17, b_u1 = (0 - 1/12) / (15 + 1) = -1/192
  const b = fitBiasBaseline(data, 2, 2, { epochs: 1 });
  close(b.itemBias[0]!, 1 / 12);
  close(b.itemBias[1]!, -1 / 11);
  close(b.userBias[0]!, 1 / 132 / 17);
  close(b.userBias[1]!, -1 / 192);
});

test('with no shrinkage, many rounds reach the least-squares fit (residuals sum to 0 per user and item)', () => {
  const big = {
    users: Int32Array.of(0, 0, 0, 1, 1, 2, 2, 2),
    items: Int32Array.of(0, 1, 2, 0, 2, 1, 2, 3),
    ratings: Float32Array.of(5, 3, 4, 2, 1, 4, 5, 3),
  };
  const b = fitBiasBaseline(big, 3, 4, { regUser: 0, regItem: 0, epochs: 500 });
  const pred = new Float32Array(8);
  predictBaseline(b, big.users, big.items, pred);
  const byUser = [0, 0, 0];
  const byItem = [0, 0, 0, 0];
  for (let r = 0; r < 8; r++) {
    byUser[big.users[r]!]! += big.ratings[r]! - pred[r]!;
    byItem[big.items[r]!]! += big.ratings[r]! - pred[r]!;
  }
  for (const s of [...byUser, ...byItem]) close(s, 0, 1e-4);
});

test('unknown indices predict the global mean; bad indices are refused', () => {
  const b = fitBiasBaseline(data, 2, 2);
  const out = new Float32Array(1);
  predictBaseline(b, Int32Array.of(-1), Int32Array.of(5), out);
  assert.equal(out[0], 4);
  assert.throws(() => fitBiasBaseline(data, 1, 2), {
    message: 'rating row 2 has (user 1, item 0) outside 1 users × 2 items; pass the sizes of the id maps',
  });
  assert.throws(() => fitBiasBaseline(data, 2, 2, { regUser: -1 }), { message: 'regUser must be a number from 0 to Infinity, got -1' });
});

test('popularity counts ratings per item and ranks ties by lower index', () => {
  const items = Int32Array.of(2, 0, 2, 1, 2, 0, 3);
  assert.deepEqual(Array.from(popularityScores(items, 5)), [2, 1, 3, 1, 0]);
  assert.deepEqual(Array.from(popularityRanking(items, 5)), [2, 0, 1, 3, 4]);
  const ratings = Float32Array.of(5, 2, 4, 5, 1, 5, 4);
  assert.deepEqual(Array.from(popularityScores(items, 5, ratings, 4)), [1, 1, 2, 1, 0]);
});
