import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  precisionAtK,
  recallAtK,
  ndcgAtK,
  averagePrecisionAtK,
  hitRateAtK,
  reciprocalRankAtK,
  catalogueCoverage,
  rankingReport,
} from './ranking-metrics.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('every metric equals the hand computation on recs [3,1,7,2], relevant {1,2,9}', () => {
  const recs = [3, 1, 7, 2];
  const rel = new Set([1, 2, 9]);
  // k = 4: hits at positions 2 and 4.
  //   P = 2/4, R = 2/3
  //   DCG = 1/log2(3) + 1/log2(5), IDCG = 1/log2(2) + 1/log2(3) + 1/log2(4) (min(4, 3) = 3 ideal hits)
  //   AP = (1/2 + 2/4) / min(4, 3) = 1/3, hit = 1, RR = 1/2
  close(precisionAtK(recs, rel, 4), 2 / 4);
  close(recallAtK(recs, rel, 4), 2 / 3);
  const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
  const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  close(ndcgAtK(recs, rel, 4), dcg / idcg);
  close(ndcgAtK(recs, rel, 4), 0.498189, 1e-6); // 1.061606 / 2.130930
  close(averagePrecisionAtK(recs, rel, 4), 1 / 3);
  assert.equal(hitRateAtK(recs, rel, 4), 1);
  close(reciprocalRankAtK(recs, rel, 4), 1 / 2);
  // k = 2: only [3, 1] count. P = 1/2, R = 1/3, nDCG = (1/log2 3) / (1 + 1/log2 3), AP = (1/2) / min(2, 3) = 1/4
  close(precisionAtK(recs, rel, 2), 1 / 2);
  close(recallAtK(recs, rel, 2), 1 / 3);
  close(ndcgAtK(recs, rel, 2), 1 / Math.log2(3) / (1 + 1 / Math.log2(3)));
  close(averagePrecisionAtK(recs, rel, 2), 1 / 4);
  // k = 1: [3] misses
  assert.equal(hitRateAtK(recs, rel, 1), 0);
  assert.equal(reciprocalRankAtK(recs, rel, 1), 0);
  assert.equal(ndcgAtK(recs, rel, 1), 0);
});

test('a perfect list scores 1 everywhere; precision divides by k even when the list is shorter', () => {
  const rel = new Set([4, 5]);
  assert.equal(ndcgAtK([5, 4], rel, 10), 1);
  assert.equal(averagePrecisionAtK([5, 4], rel, 10), 1);
  assert.equal(recallAtK([5, 4], rel, 10), 1);
  assert.equal(precisionAtK([5, 4], rel, 10), 2 / 10);
  // -1 marks an empty slot of a padded top-k row
  assert.equal(precisionAtK([-1, 4], rel, 2), 1 / 2);
  close(reciprocalRankAtK([-1, 4], rel, 2), 1 / 2);
});

test('empty inputs: no relevant item gives NaN, an empty list gives 0, k must be positive', () => {
  const none = new Set<number>();
  for (const f of [precisionAtK, recallAtK, ndcgAtK, averagePrecisionAtK, hitRateAtK, reciprocalRankAtK]) {
    assert.ok(Number.isNaN(f([1, 2], none, 2)));
    assert.equal(f([], new Set([1]), 2), 0);
  }
  assert.throws(() => precisionAtK([1], new Set([1]), 0), { message: 'k must be an integer >= 1, got 0' });
  const r = rankingReport([], [], 10, 0);
  assert.equal(r.users, 0);
  assert.equal(r.skippedUsers, 0);
  assert.ok(Number.isNaN(r.precision) && Number.isNaN(r.ndcg) && Number.isNaN(r.coverage));
});

test('rankingReport averages over users with relevant items and counts the skipped ones', () => {
  const recs = [[3, 1, 7, 2], [5, 6, 7, 8], [0, 1], undefined];
  const relevant = [new Set([1, 2, 9]), new Set([8]), new Set<number>(), new Set([4])];
  // user 0: as above. user 1 (rel {8}, hit at 4): P 1/4, R 1, nDCG 1/log2(5), AP (1/4)/1, hit 1, RR 1/4.
  // user 2: no relevant item → skipped. user 3: relevant but no list → all 0.
  const r = rankingReport(recs, relevant, 4, 10);
  assert.equal(r.k, 4);
  assert.equal(r.users, 3);
  assert.equal(r.skippedUsers, 1);
  close(r.precision, (1 / 2 + 1 / 4 + 0) / 3);
  close(r.recall, (2 / 3 + 1 + 0) / 3);
  const ndcg0 = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3) + 1 / Math.log2(4));
  close(r.ndcg, (ndcg0 + 1 / Math.log2(5)) / 3);
  close(r.map, (1 / 3 + 1 / 4) / 3);
  close(r.hitRate, 2 / 3);
  close(r.mrr, (1 / 2 + 1 / 4) / 3);
  // coverage counts every list, the skipped user's too: {3,1,7,2,5,6,8,0} = 8 of 10 items
  close(r.coverage, 0.8);
});

test('coverage uses only the first k of each list and refuses foreign indices', () => {
  close(catalogueCoverage([[0, 1, 2, 3]], 2, 4), 0.5);
  assert.throws(() => catalogueCoverage([[0, 7]], 2, 4), {
    message: "user 0's list has item index 7, outside 0..3; pass nItems of the model that made the lists",
  });
});
