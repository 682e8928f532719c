import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskySolve } from './cholesky.js';

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);

test('choleskySolve solves a known 2×2 system', () => {
  // [4 2; 2 3] x = [2; 1] → x = [0.5, 0]
  const A = Float64Array.of(4, 2, 2, 3);
  const b = Float64Array.of(2, 1);
  choleskySolve(A, b, 2);
  close(b[0]!, 0.5, 1e-15);
  close(b[1]!, 0, 1e-15);
  assert.throws(() => choleskySolve(Float64Array.of(1, 1, 1, 1), Float64Array.of(1, 1), 2), {
    message: 'the fold-in system is singular (too few ratings for the number of factors); use lambda > 0',
  });
});
