import assert from 'node:assert/strict';
import test from 'node:test';
import { loadDataset } from '../data/load.js';
import { stratifiedSplit } from '../data/split.js';
import { userItemsCsr } from '../data/user-items.js';
import { sharedDataDir } from '../testing/fixtures.js';
import { easeBytes, fitEase, gramMatrix } from './ease.js';
import { evaluateTopN, implicitProtocol } from '../evaluate/implicit-protocol.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// Four users over three items: X = [[1,1,0],[1,0,1],[0,1,1],[1,1,1]].
const users = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 3]);
const items = Int32Array.from([0, 1, 0, 2, 1, 2, 0, 1, 2]);

test('gram matrix XᵀX counts co-occurrences, the diagonal counts users per item', () => {
  const G = gramMatrix(userItemsCsr(users, items, 4), 3);
  assert.deepEqual(Array.from(G), [3, 2, 2, 2, 3, 2, 2, 2, 3]);
});

test('EASE on a tiny matrix equals the closed form worked by hand', () => {
  // G + λI = 2I + 2J with λ = 1, P = 0.5 I - 0.125 J, B_ij = -P_ij / P_jj = 0.125 / 0.375 = 1/3 off the diagonal
  const m = fitEase(users, items, 4, 3, { lambda: 1 });
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) close(m.B[i * 3 + j]!, i === j ? 0 : 1 / 3, 1e-7);
  // user 0 has items 0 and 1: s = B[0,:] + B[1,:] = [1/3, 1/3, 2/3]; the only unseen item is 2
  const s = m.scoreUser(0);
  close(s[2]!, 2 / 3, 1e-7);
  const top = m.recommend(0, 5);
  assert.deepEqual(Array.from(top.items), [2]);
  // user 3 has seen everything
  assert.equal(m.recommend(3, 5).items.length, 0);
});

test('EASE ranks the co-watched item first on a block structure, and λ changes B', () => {
  // users 0-4 watch items 0-2, users 5-9 watch items 3-5; user 10 watched 0 and 1 only
  const u: number[] = [];
  const it: number[] = [];
  for (let x = 0; x < 10; x++) for (let j = 0; j < 3; j++) {
    u.push(x);
    it.push(x < 5 ? j : 3 + j);
  }
  u.push(10, 10);
  it.push(0, 1);
  const m = fitEase(Int32Array.from(u), Int32Array.from(it), 11, 6, { lambda: 2 });
  assert.equal(m.recommend(10, 1).items[0], 2);
  const m2 = fitEase(Int32Array.from(u), Int32Array.from(it), 11, 6, { lambda: 50 });
  assert.notEqual(m.B[1], m2.B[1]);
});

test('EASE refuses bad input with messages that say what to do', () => {
  assert.throws(() => fitEase(users, items, 4, 3, { lambda: -1 }), /lambda must be a number from 0 to Infinity, got -1/);
  assert.throws(() => fitEase(users, items, 4, 3, { maxItems: 2 }), /EASE needs an nItems × nItems inverse and 3 items exceed maxItems 2/);
  assert.throws(() => fitEase(users, Int32Array.from([0, 1, 0, 2, 1, 2, 0, 1, 7]), 4, 3), /items row 8 has item index 7, outside 0..2/);
  assert.equal(easeBytes(9724), 2 * 8 * 9724 ** 2 + 4 * 9724 ** 2);
  assert.throws(
    () => fitEase(users, items, 4, 3, { freeMemory: 100 }),
    /^CollabError: EASE on 3 items needs 1 kB of memory \(two 3 × 3 float64 matrices and the float32 weights\) and 1 kB is free; keep only items with enough ratings or free memory$/,
  );
  assert.throws(() => fitEase(users, items, 4, 20000), /EASE on 20000 items needs two 20000 × 20000 float64 matrices \(6.4 GB\), beyond WebAssembly's 4 GiB; keep at most 16384 items \(those with the most ratings\)/);
  const m = fitEase(users, items, 4, 3);
  assert.throws(() => m.scoreItems(Int32Array.of(5)), /item index 5 is outside 0..2/);
});

test('ml-100k, Microsoft Recommenders protocol: EASE reaches P@10 >= 0.41 and nDCG@10 >= 0.47', { skip: sharedDataDir() === undefined && 'set COLLAB_DATA_DIR to run' }, () => {
  const data = loadDataset('ml-100k', { dataDir: sharedDataDir()! });
  const { train, valid } = stratifiedSplit(data.ratings, { ratio: 0.75, seed: 42 });
  assert.equal(train.ratings.length, 74992);
  const m = fitEase(train.users, train.items, train.userIds.size, train.itemIds.size);
  const r = evaluateTopN(implicitProtocol(train, valid), (u, k) => m.recommend(u, k).items, 10);
  assert.equal(r.users, 943);
  assert.ok(r.precision >= 0.41, `P@10 ${r.precision}`);
  assert.ok(r.ndcg >= 0.47, `nDCG@10 ${r.ndcg}`);
});
