import { test } from 'node:test';
import assert from 'node:assert/strict';
import { becauseOfContributions, becauseYouLiked } from './explain.js';

// items: 0 [1,0] (the recommendation), 1 [1,0.1], 2 [1,0.2] (rated 3: not liked), 3 [0,1], 4 [1,1], 5 [0.9,0.05]
const Q = Float32Array.of(1, 0, 1, 0.1, 1, 0.2, 0, 1, 1, 1, 0.9, 0.05);

test('because you liked: the liked items closest to the recommendation, best first, at most 3', () => {
  const rated = Int32Array.of(3, 2, 4, 1, 5, 0);
  const values = Float32Array.of(5, 3, 4, 4.5, 4, 5);
  const r = becauseYouLiked(Q, 2, 0, rated, values);
  // cos: item 5 0.9986, item 1 0.9950, item 4 0.7071, item 3 0; item 2 is below the threshold, item 0 is the query
  assert.deepEqual(r.map((x) => x.item), [5, 1, 4]);
  assert.equal(r[1]!.rating, 4.5);
  assert.ok(Math.abs(r[2]!.similarity - Math.SQRT1_2) < 1e-6);
  // a lower threshold lets item 2 in; n limits the count
  assert.deepEqual(becauseYouLiked(Q, 2, 0, rated, values, { threshold: 3, n: 2 }).map((x) => x.item), [5, 1]);
  assert.deepEqual(becauseYouLiked(Q, 2, 0, rated, values, { threshold: 3, n: 4 }).map((x) => x.item), [5, 1, 2, 4]);
  assert.deepEqual(becauseYouLiked(Q, 2, 0, Int32Array.of(3), Float32Array.of(2)), []);
});

test('an item outside the table is refused', () => {
  assert.throws(() => becauseYouLiked(Q, 2, 9, new Int32Array(0), new Float32Array(0)), {
    message: 'item 9 is outside 0..5; map the raw id to its dense index first',
  });
});

test('because of contributions: the liked ratings that raised the score most, within a third of the largest, at most n', () => {
  const rated = Int32Array.of(3, 2, 4, 1, 5);
  const values = Float32Array.of(5, 5, 4, 4.5, 2);
  // item 2 raised the score most, then 1; 4 adds little (below a third of 0.9), 3 lowered it, 5 is not liked
  const shares = Float64Array.of(-0.2, 0.9, 0.1, 0.5, 1.5);
  const r = becauseOfContributions(Q, 2, 0, rated, values, shares);
  assert.deepEqual(r.map((x) => [x.item, x.contribution]), [[2, 0.9], [1, 0.5]]);
  assert.ok(Math.abs(r[1]!.similarity - 1 / Math.hypot(1, 0.1)) < 1e-6);
  assert.deepEqual(becauseOfContributions(Q, 2, 0, rated, values, shares, { n: 1 }).map((x) => x.item), [2]);
  assert.deepEqual(becauseOfContributions(Q, 2, 0, rated, values, shares, { minShare: 0 }).map((x) => x.item), [2, 1, 4]);
  assert.deepEqual(becauseOfContributions(Q, 2, 0, rated, values, Float64Array.of(-1, -1, -1, -1, 2)), [], 'no liked rating raised it');
  assert.throws(() => becauseOfContributions(Q, 2, 0, rated, values, new Float64Array(2)), {
    message: 'ratedItems, ratedValues and contributions differ in length (5, 5 and 2)',
  });
});
