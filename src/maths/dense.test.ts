import assert from 'node:assert/strict';
import test from 'node:test';
import { spawnSync } from 'node:child_process';
import { DenseSpdInverse, spdInverse } from './dense.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** A A ᵀ + n I of a deterministic pseudo-random A: symmetric positive definite. */
function randomSpd(n: number): Float64Array {
  const M = Float64Array.from({ length: n * n }, (_, t) => Math.sin(t * 1.7 + 0.3 * (t % 11)));
  const A = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let m = 0; m < n; m++) A[a * n + b] += M[a * n + m]! * M[b * n + m]!;
  for (let a = 0; a < n; a++) A[a * n + a] += n;
  return A;
}

/** max |A A⁻¹ - I| */
function worstResidual(A: Float64Array, inv: Float64Array, n: number): number {
  let worst = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let m = 0; m < n; m++) s += A[a * n + m]! * inv[m * n + b]!;
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

test('spdInverse inverts a symmetric positive definite matrix', () => {
  // (2I + 2J)⁻¹ = 0.5 I - 0.125 J for the 3×3 all-ones J
  const P = spdInverse(Float64Array.from([4, 2, 2, 2, 4, 2, 2, 2, 4]), 3);
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) close(P[a * 3 + b]!, (a === b ? 0.5 : 0) - 0.125);
  // a random SPD matrix: A A⁻¹ = I
  const n = 7;
  const M = Float64Array.from({ length: n * n }, (_, t) => Math.sin(t * 1.7) + (t % (n + 1) === 0 ? 3 : 0));
  const A = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let m = 0; m < n; m++) A[a * n + b] += M[a * n + m]! * M[b * n + m]!;
  const inv = spdInverse(A.slice(), n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let m = 0; m < n; m++) s += A[a * n + m]! * inv[m * n + b]!;
      close(s, a === b ? 1 : 0, 1e-9);
    }
  }
  assert.throws(() => spdInverse(Float64Array.from([1, 2, 2, 1]), 2), /matrix is not positive definite \(pivot 1 is -3\); raise the ridge weight lambda/);
});

test('the blocked inverse is right across many blocks, odd orders and ragged last blocks, and symmetric', () => {
  for (const [n, block] of [[37, 16], [130, 32], [67, 64], [5, 16], [200, 48]] as const) {
    const A = randomSpd(n);
    const inv = spdInverse(A, n, { block, threads: 1 });
    assert.ok(worstResidual(A, inv, n) < 1e-10, `n ${n} block ${block}: residual ${worstResidual(A, inv, n)}`);
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) assert.equal(inv[a * n + b], inv[b * n + a]);
  }
});

test('two threads compute the same bits as one', () => {
  const n = 300;
  const A = randomSpd(n);
  const one = spdInverse(A, n, { block: 16, threads: 1 });
  const two = spdInverse(A, n, { block: 16, threads: 2 });
  assert.deepEqual(two, one);
  assert.ok(worstResidual(A, two, n) < 1e-10);
});

test('DenseSpdInverse reads only the lower triangle and refuses bad options', () => {
  const n = 20;
  const A = randomSpd(n);
  const inv = new DenseSpdInverse(n, { block: 16 });
  inv.matrix.set(A);
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) inv.matrix[a * n + b] = NaN;
  assert.ok(worstResidual(A, inv.invert(), n) < 1e-10);
  assert.throws(() => new DenseSpdInverse(4, { block: 24 }), /^CollabError: block must be a multiple of 16, got 24$/);
  assert.throws(() => spdInverse(new Float64Array(3), 2), /^CollabError: matrix has 3 entries, not 2×2$/);
});

test('a process whose flags a worker refuses (a V8 flag) inverts on one thread instead of failing', () => {
  const dense = new URL('./dense.js', import.meta.url).href;
  const script = `import { spdInverse } from '${dense}';
const n = 300; const A = new Float64Array(n * n);
for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) A[i * n + j] = ((i * 7 + j * 13) % 17) / 17 + ((i * 13 + j * 7) % 17) / 17; A[i * n + i] += n; }
const P = spdInverse(A, n, { threads: 2, block: 16 });
let s = 0; for (let m = 0; m < n; m++) s += A[m] * P[m * n];
console.log(Math.abs(s - 1) < 1e-10 ? 'ok' : 'wrong ' + s);`;
  const run = spawnSync(process.execPath, ['--no-liftoff', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.stderr, '');
  assert.equal(run.stdout.trim(), 'ok');
});
