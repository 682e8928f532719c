import assert from 'node:assert/strict';
import test from 'node:test';
import { RandomState } from '../core/random.js';
import { choleskySolve } from '../maths/cholesky.js';
import { topKForUser } from '../maths/top-k.js';
import { implicitBoard } from '../testing/fixtures.js';
import { addGramian, cgScratch, mirrorUpper, P_A0, P_C, P_CG, P_NU, P_REG, PARAM_WORDS, rowRidge, solveRows } from './ials-kernel.js';
import { fitIals, IALS_DEFAULTS, ialsLoss } from './ials.js';

/** A small random problem: nRows rows over nOther columns, each observed with probability `density`. */
function tinyRows(nRows: number, nOther: number, density: number, seed: number): { offsets: Int32Array; cols: Int32Array } {
  const rng = new RandomState(seed);
  const offsets = new Int32Array(nRows + 1);
  const cols: number[] = [];
  for (let u = 0; u < nRows; u++) {
    for (let i = 0; i < nOther; i++) if (rng.random() < density) cols.push(i);
    offsets[u + 1] = cols.length;
  }
  return { offsets, cols: Int32Array.from(cols) };
}

test('conjugate gradient with k steps solves the row normal equations exactly (against a dense Cholesky solve)', () => {
  const k = 6;
  const nRows = 5;
  const nOther = 12;
  const rows = tinyRows(nRows, nOther, 0.4, 3);
  const rng = new RandomState(7);
  const F = Float32Array.from({ length: nOther * k }, () => rng.normal());
  const T = Float32Array.from({ length: nRows * k }, () => rng.normal());
  const params = new Float64Array(PARAM_WORDS);
  params[P_C] = 3;
  params[P_A0] = 0.2;
  params[P_REG] = 0.05;
  params[P_NU] = 1;
  params[P_CG] = k;
  const G = new Float64Array(k * k);
  addGramian(F, k, 0, nOther, G);
  mirrorUpper(G, k);
  solveRows(T, F, G, rows, nOther, k, params, 0, nRows, cgScratch(k));
  for (let u = 0; u < nRows; u++) {
    // A = α₀ FᵀF + (c − α₀) Σ_{i ∈ S_u} f_i f_iᵀ + λ_u I,  b = c Σ_{i ∈ S_u} f_i, built entry by entry
    const A = new Float64Array(k * k);
    const b = new Float64Array(k);
    const observed = new Set(rows.cols.subarray(rows.offsets[u]!, rows.offsets[u + 1]!));
    for (let i = 0; i < nOther; i++) {
      const w = observed.has(i) ? 3 : 0.2;
      for (let f = 0; f < k; f++) {
        if (observed.has(i)) b[f] += 3 * F[i * k + f]!;
        for (let g = 0; g < k; g++) A[f * k + g] += w * F[i * k + f]! * F[i * k + g]!;
      }
    }
    const lam = 0.05 * (3 * observed.size + 0.2 * (nOther - observed.size));
    assert.equal(rowRidge(params, observed.size, nOther), lam);
    for (let f = 0; f < k; f++) A[f * k + f] += lam;
    choleskySolve(A, b, k);
    for (let f = 0; f < k; f++) assert.ok(Math.abs(T[u * k + f]! - b[f]!) < 1e-4 * (1 + Math.abs(b[f]!)), `row ${u} factor ${f}: CG ${T[u * k + f]} exact ${b[f]}`);
  }
});

test('the iALS loss falls every iteration, and one thread and two give the same factors bit for bit', async () => {
  const { ratings: r } = implicitBoard();
  const losses: number[] = [];
  const opts = { factors: 8, iterations: 6, alpha: 2, reg: 0.01, unobservedWeight: 0.3, seed: 5 };
  const one = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { ...opts, threads: 1, onIteration: (_, m) => losses.push(ialsLoss(m)) });
  assert.equal(losses.length, 6);
  for (let t = 1; t < losses.length; t++) assert.ok(losses[t]! < losses[t - 1]!, `iteration ${t + 1}: ${losses[t]} after ${losses[t - 1]}`);
  const two = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { ...opts, threads: 2 });
  assert.deepEqual(two.userFactors, one.userFactors);
  assert.deepEqual(two.itemFactors, one.itemFactors);
  const other = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { ...opts, threads: 1, seed: 6 });
  assert.notDeepEqual(other.itemFactors, one.itemFactors);
});

test('each option changes the result; the config records the defaults', async () => {
  const { ratings: r } = implicitBoard();
  const base = { factors: 4, iterations: 2, threads: 1 };
  const fit = (o: object) => fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { ...base, ...o });
  const ref = await fit({});
  assert.deepEqual(ref.config, { ...IALS_DEFAULTS, factors: 4, iterations: 2 });
  for (const o of [{ alpha: 3 }, { reg: 0.5 }, { unobservedWeight: 1 }, { regExponent: 0 }, { cgSteps: 1 }, { iterations: 3 }]) {
    assert.notDeepEqual((await fit(o)).itemFactors, ref.itemFactors, JSON.stringify(o));
  }
});

test('on an implicit checkerboard a user is recommended unseen movies of their own half', async () => {
  const { ratings: r } = implicitBoard();
  // two blocks are a rank-2 structure: with more factors iALS also fits which own-half movies each user skipped
  const model = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { factors: 2, iterations: 10, threads: 1 });
  const firstHalf = (i: number): boolean => (r.itemIds.idOf(i) as number) <= 115;
  for (const userId of [1, 7, 21, 33]) {
    const u = r.userIds.indexOf(userId);
    const seen = model.itemsOf(u);
    const unseenOwn = 15 - seen.length;
    const top = model.recommend(u, unseenOwn);
    for (const i of top.items) {
      assert.equal(firstHalf(i), userId <= 20, `user ${userId} got movie ${r.itemIds.idOf(i)}`);
      assert.ok(!seen.includes(i));
    }
  }
  // a visitor who watched two Comedy movies is folded in and gets Comedy movies
  const visitor = Int32Array.from([101, 102], (id) => r.itemIds.indexOf(id));
  const top = topKForUser(model.scoreItems(visitor), 5, visitor);
  for (const i of top.items) assert.ok(firstHalf(i));
  // neighbours by cosine of item factors stay in their half
  const sim = topKForUser(model.similarScores(r.itemIds.indexOf(101)), 5, Int32Array.of(r.itemIds.indexOf(101)));
  for (const i of sim.items) assert.ok(firstHalf(i));
});

test('fold-in of a training user\'s own items reproduces their trained ranking', async () => {
  const { ratings: r } = implicitBoard();
  const model = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { factors: 8, iterations: 15, threads: 1 });
  for (let u = 0; u < model.nUsers; u += 5) {
    const trained = model.scoreUser(u);
    const folded = model.scoreItems(model.itemsOf(u));
    // the trained x_u was solved against the items of the previous iteration, so the two agree closely, not exactly
    let worst = 0;
    for (let i = 0; i < model.nItems; i++) worst = Math.max(worst, Math.abs(trained[i]! - folded[i]!));
    assert.ok(worst < 0.02, `user ${u}: largest score difference ${worst}`);
    const a = model.recommend(u, 5).items;
    const b = topKForUser(folded, 5, model.itemsOf(u)).items;
    assert.ok([...a].filter((i) => b.includes(i)).length >= 4, `user ${u}: trained ${a} folded ${b}`);
  }
});

test('explanations: the contributions of a history add up to its fold-in score', async () => {
  const { ratings: r } = implicitBoard();
  const model = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { factors: 8, iterations: 5, threads: 1 });
  const history = model.itemsOf(0);
  const scores = model.scoreItems(history);
  for (const i of [0, 3, 20]) {
    const parts = model.contributions(i, history);
    assert.equal(parts.length, history.length);
    const sum = parts.reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(sum - scores[i]!) < 1e-5, `item ${i}: Σ parts ${sum}, score ${scores[i]}`);
  }
});

test('iALS option and input errors are pinned', async () => {
  const { ratings: r } = implicitBoard();
  const fit = (o: object, items = r.items) => fitIals(r.users, items, r.userIds.size, r.itemIds.size, { threads: 1, ...o });
  await assert.rejects(fit({ factors: 0 }), { message: 'factors must be an integer from 1 to 4096, got 0' });
  await assert.rejects(fit({ alpha: -1 }), { message: 'alpha must be a number from 0 to Infinity, got -1' });
  await assert.rejects(fit({ threads: 3 }), { message: 'threads must be an integer from 1 to 2, got 3' });
  const bad = r.items.slice();
  bad[4] = 30;
  await assert.rejects(fit({}, bad), { message: 'items row 4 has item index 30, outside 0..29; pass nItems of the id map' });
  const model = await fit({ factors: 2, iterations: 1 });
  assert.throws(() => model.scoreItems(Int32Array.of(31)), { message: 'item index 31 is outside 0..29; map raw ids with the training IdMap first' });
});

test('a fold-in inside the iteration callback does not leave the returned model a stale Gramian', async () => {
  const { ratings: r } = implicitBoard();
  const opts = { factors: 4, iterations: 3, threads: 1 };
  const history = Int32Array.of(0, 1, 2);
  const plain = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, opts);
  const peeked = await fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, { ...opts, onIteration: (_, m) => void m.scoreItems(history) });
  assert.deepEqual(peeked.itemFactors, plain.itemFactors);
  assert.deepEqual(peeked.scoreItems(history), plain.scoreItems(history));
});
