import { test } from 'node:test';
import assert from 'node:assert/strict';
import { becauseYouLiked } from './explain.js';

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
