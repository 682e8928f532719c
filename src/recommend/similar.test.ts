import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowNorms, cachedRowNorms, forgetRowNorms, cosineToAll, similarItems, similarUsers } from './similar.js';

// rows: [1,0], [0,1], [1,1], [-1,0], [2,0], [0,0]
const table = Float32Array.of(1, 0, 0, 1, 1, 1, -1, 0, 2, 0, 0, 0);

test('cosine similarity known answers; an all-zero row has similarity 0', () => {
  const out = new Float32Array(6);
  cosineToAll(table, 2, 0, rowNorms(table, 2), out);
  const want = [1, 0, Math.SQRT1_2, -1, 1, 0];
  for (let j = 0; j < 6; j++) assert.ok(Math.abs(out[j]! - want[j]!) < 1e-6, `row ${j}`);
});

test('similarItems leaves the query out, ranks ties by lower index, honours exclusion', () => {
  const r = similarItems(table, 2, 0, 3);
  // 4 (cos 1), 2 (cos 0.707), then rows 1 and 5 tie at 0 → lower index 1
  assert.deepEqual(Array.from(r.items), [4, 2, 1]);
  assert.ok(Math.abs(r.scores[1]! - Math.SQRT1_2) < 1e-6);
  assert.deepEqual(Array.from(similarItems(table, 2, 0, 3, Int32Array.of(4)).items), [2, 1, 5]);
  // row 3 = [-1,0] is opposite to 0, 2 and 4; rows 1 and 5 tie at 0 → 1
  assert.deepEqual(Array.from(similarUsers(table, 2, 3, 1).items), [1]);
});

test('row norms are cached per table until forgotten', () => {
  const t = Float32Array.of(3, 4, 0, 1);
  const a = cachedRowNorms(t, 2);
  assert.deepEqual(Array.from(a), [5, 1]);
  assert.equal(cachedRowNorms(t, 2), a);
  t[1] = 0;
  forgetRowNorms(t);
  assert.deepEqual(Array.from(cachedRowNorms(t, 2)), [3, 1]);
});

test('a row outside the table is refused', () => {
  assert.throws(() => similarItems(table, 2, 6, 3), { message: 'row 6 is outside 0..5; map the raw id to its dense index first' });
  assert.throws(() => similarItems(table, 2, 0, 0), { message: 'n must be an integer >= 1, got 0' });
});
