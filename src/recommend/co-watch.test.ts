import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userItemsCsr } from '../data/user-items.js';
import { CoWatch } from './co-watch.js';

test('the co-watch term is 10 x the asymmetric cosine |U_g ∩ U_j| / (|U_g|^0.8 |U_j|^0.2), summed over the given movies', () => {
  // users 0..3; movie 0 rated by 0,1,2; movie 1 by 0,1; movie 2 by 2,3; movie 3 by 3
  const users = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]);
  const items = Int32Array.from([0, 1, 0, 1, 0, 2, 2, 3]);
  const cw = new CoWatch(userItemsCsr(users, items, 4), 4);
  const out = cw.score(Int32Array.from([0]), new Float32Array(4));
  const c = (both: number, ng: number, nj: number) => (10 * both) / (ng ** 0.8 * nj ** 0.2);
  assert.ok(Math.abs(out[1]! - c(2, 3, 2)) < 1e-5);
  assert.ok(Math.abs(out[2]! - c(1, 3, 2)) < 1e-5);
  assert.equal(out[3], 0, 'nobody rated 0 and 3');
  const two = cw.score(Int32Array.from([0, 3]), new Float32Array(4));
  assert.ok(Math.abs(two[2]! - (c(1, 3, 2) + c(1, 1, 2))) < 1e-5, 'each given movie adds its own term');
});
