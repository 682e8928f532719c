import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { foldInContributions, foldInLinear, foldInSigmoid, foldInGradient, foldInSoftmax, foldInScoring, softmaxCurvature, type UserVectorModel } from './fold-in.js';
import { SoftmaxTable } from './softmax-table.js';

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);

/** A synthetic item side: Q (nItems × k) ~ N(0, 0.5²), b_i ~ N(0, 0.3²). */
function itemSide(seed: number, nItems: number, k: number): { Q: Float32Array; bi: Float32Array; rng: RandomState } {
  const rng = new RandomState(seed);
  const Q = Float32Array.from({ length: nItems * k }, () => 0.5 * rng.normal());
  const bi = Float32Array.from({ length: nItems }, () => 0.3 * rng.normal());
  return { Q, bi, rng };
}

function dot(p: ArrayLike<number>, Q: Float32Array, i: number, k: number): number {
  let s = 0;
  for (let f = 0; f < k; f++) s += p[f]! * Q[i * k + f]!;
  return s;
}

test('linear fold-in recovers a known user vector and bias from noiseless ratings', () => {
  const k = 6;
  const nItems = 50;
  const mu = 3.5;
  const { Q, bi, rng } = itemSide(1, nItems, k);
  const p = Array.from({ length: k }, () => rng.normal());
  const bu = 0.4;
  const items = Int32Array.from({ length: 20 }, (_, t) => 2 * t + 1);
  const ratings = Float32Array.from(items, (i) => mu + bu + bi[i]! + dot(p, Q, i, k));
  const r = foldInLinear(Q, k, items, ratings, { itemBias: bi, offset: mu, lambda: 1e-9 });
  for (let f = 0; f < k; f++) close(r.userVector[f]!, p[f]!, 1e-4, `p[${f}]`);
  close(r.userBias, bu, 1e-4, 'b_u');
  assert.ok(r.loss < 1e-8);
  // a model without biases (dot): k×k system, no b_u
  const ratingsDot = Float32Array.from(items, (i) => dot(p, Q, i, k));
  const rd = foldInLinear(Q, k, items, ratingsDot, { fitBias: false, lambda: 1e-9 });
  assert.equal(rd.userBias, 0);
  for (let f = 0; f < k; f++) close(rd.userVector[f]!, p[f]!, 1e-4, `dot p[${f}]`);
});

test('lambda shrinks the user vector', () => {
  const k = 4;
  const { Q, bi } = itemSide(2, 30, k);
  const items = Int32Array.of(0, 3, 5, 8, 13);
  const ratings = Float32Array.of(5, 1, 4, 2, 5);
  const norm = (x: Float32Array): number => Math.hypot(...x);
  const a = foldInLinear(Q, k, items, ratings, { itemBias: bi, offset: 3.5, lambda: 0.1 });
  const b = foldInLinear(Q, k, items, ratings, { itemBias: bi, offset: 3.5, lambda: 10 });
  assert.ok(norm(b.userVector) < norm(a.userVector));
  assert.ok(Math.abs(b.userBias) < Math.abs(a.userBias));
});

test('a synthetic new user: fold-in from 15 ratings predicts the other 485 better than the bias baseline', () => {
  const k = 8;
  const nItems = 500;
  const mu = 3.5;
  const { Q, bi, rng } = itemSide(3, nItems, k);
  const p = Array.from({ length: k }, () => rng.normal());
  const bu = -0.3;
  const truth = Float32Array.from({ length: nItems }, (_, i) => mu + bu + bi[i]! + dot(p, Q, i, k) + 0.3 * rng.normal());
  const known = rng.permutation(nItems).subarray(0, 15).sort();
  const isKnown = new Uint8Array(nItems);
  for (const i of known) isKnown[i] = 1;
  const ratings = Float32Array.from(known, (i) => truth[i]!);
  const f = foldInLinear(Q, k, known, ratings, { itemBias: bi, offset: mu });
  // the bias baseline of a new user: b_u = Σ (r - mu - b_i) / (regUser 15 + n), as BaselineOnly fits it
  let dev = 0;
  for (let t = 0; t < known.length; t++) dev += ratings[t]! - mu - bi[known[t]!]!;
  const buBase = dev / (15 + known.length);
  let seFold = 0;
  let seBase = 0;
  let n = 0;
  for (let i = 0; i < nItems; i++) {
    if (isKnown[i]) continue;
    seFold += (truth[i]! - (mu + f.userBias + bi[i]! + dot(f.userVector, Q, i, k))) ** 2;
    seBase += (truth[i]! - (mu + buBase + bi[i]!)) ** 2;
    n++;
  }
  const rmseFold = Math.sqrt(seFold / n);
  const rmseBase = Math.sqrt(seBase / n);
  assert.ok(rmseFold < 0.8 * rmseBase, `fold-in RMSE ${rmseFold} vs baseline ${rmseBase}`);
});

test('sigmoid fold-in recovers a known user of a y-range model, and refines the logit-scale start', () => {
  const k = 5;
  const nItems = 60;
  const [lo, hi] = [0, 5.5];
  const { Q, bi, rng } = itemSide(4, nItems, k);
  const p = Array.from({ length: k }, () => 0.8 * rng.normal());
  const bu = 0.5;
  const items = Int32Array.from({ length: 25 }, (_, t) => 2 * t);
  const ratings = Float32Array.from(items, (i) => lo + (hi - lo) / (1 + Math.exp(-(dot(p, Q, i, k) + bu + bi[i]!))));
  const r = foldInSigmoid(Q, k, items, ratings, { itemBias: bi, yRange: [lo, hi], lambda: 1e-9 });
  for (let f = 0; f < k; f++) close(r.userVector[f]!, p[f]!, 1e-3, `p[${f}]`);
  close(r.userBias, bu, 1e-3, 'b_u');
  assert.ok(r.steps > 0);

  // with noise and the default lambda, the Gauss-Newton steps lower the real-scale loss of the start
  const noisy = Float32Array.from(ratings, (x) => Math.min(hi, Math.max(lo, x + 0.4 * rng.normal())));
  const start = foldInSigmoid(Q, k, items, noisy, { itemBias: bi, yRange: [lo, hi], steps: 0 });
  const refined = foldInSigmoid(Q, k, items, noisy, { itemBias: bi, yRange: [lo, hi] });
  assert.equal(start.steps, 0);
  assert.ok(refined.loss < start.loss, `${refined.loss} < ${start.loss}`);
});

test('generic gradient fold-in reaches the closed-form solution of a linear model', () => {
  const k = 4;
  const nItems = 40;
  const mu = 3.5;
  const { Q, bi } = itemSide(5, nItems, k);
  const items = Int32Array.of(1, 4, 9, 16, 25, 36, 7, 11);
  const ratings = Float32Array.of(5, 3, 4, 1, 2.5, 4.5, 3, 5);
  // the user vector is [p; b_u]: pred = p·q_i + b_u + b_i + mu, d pred / d [p; b_u] = [q_i; 1]
  const model: UserVectorModel = {
    userSize: k + 1,
    predictWithUser(u, i, grad) {
      for (let f = 0; f < k; f++) grad[f] = Q[i * k + f]!;
      grad[k] = 1;
      return dot(u, Q, i, k) + u[k]! + bi[i]! + mu;
    },
  };
  const exact = foldInLinear(Q, k, items, ratings, { itemBias: bi, offset: mu, lambda: 1 });
  const g = foldInGradient(model, nItems, items, ratings, { lambda: 1, steps: 2000, lr: 0.05 });
  for (let f = 0; f < k; f++) close(g.userVector[f]!, exact.userVector[f]!, 5e-3, `p[${f}]`);
  close(g.userVector[k]!, exact.userBias, 5e-3, 'b_u');
  close(g.loss, exact.loss, 1e-3, 'loss');
});

test('bad fold-in input is refused with what to do', () => {
  const Q = new Float32Array(6);
  assert.throws(() => foldInLinear(Q, 2, new Int32Array(0), new Float32Array(0)), {
    message: 'fold-in needs at least one (item, rating) pair, got none; give a few ratings such as "1:5,260:4.5"',
  });
  assert.throws(() => foldInLinear(Q, 2, Int32Array.of(3), Float32Array.of(4)), {
    message: "item index 3 is outside 0..2; map raw ids with the model's item IdMap first",
  });
  assert.throws(() => foldInSigmoid(Q, 2, Int32Array.of(1), Float32Array.of(6), { yRange: [0, 5.5] }), {
    message: "rating 6 is outside the model's scale [0, 5.5]; give ratings on the scale the model was trained on",
  });
  assert.throws(() => foldInSigmoid(Q, 2, Int32Array.of(1), Float32Array.of(4), { yRange: [5, 1] }), {
    message: 'yRange must be two finite numbers lo < hi, got [5,1]',
  });
});

/** ∇F of the pick fold-in objective at p, computed directly: Σ_t q_t - n E_π[q] - 2λ (p - p0). */
function softmaxGradient(Q: Float32Array, b: Float32Array, k: number, items: Int32Array, p: Float32Array, p0: Float32Array, lambda: number): number[] {
  const nItems = b.length;
  const s = Array.from({ length: nItems }, (_, i) => b[i]! + dot(p, Q, i, k));
  const max = Math.max(...s);
  const z = s.reduce((sum, v) => sum + Math.exp(v - max), 0);
  const g = new Array<number>(k).fill(0);
  for (const i of items) for (let f = 0; f < k; f++) g[f]! += Q[i * k + f]!;
  for (let i = 0; i < nItems; i++) for (let f = 0; f < k; f++) g[f]! -= (items.length * Math.exp(s[i]! - max) * Q[i * k + f]!) / z;
  for (let f = 0; f < k; f++) g[f]! -= 2 * lambda * (p[f]! - p0[f]!);
  return g;
}

test('softmax fold-in: the returned pick vector is a stationary point of the penalised log-likelihood', () => {
  const k = 4;
  const { Q, bi } = itemSide(21, 60, k);
  const prior = Float32Array.of(0.2, -0.1, 0, 0.3);
  const items = Int32Array.of(3, 17, 17, 42, 59);
  for (const lambda of [0.1, 1, 10]) {
    const fit = foldInSoftmax(Q, bi, k, items, { lambda, prior });
    const g = softmaxGradient(Q, bi, k, items, fit.userVector, prior, lambda);
    for (let f = 0; f < k; f++) close(g[f]!, 0, 1e-3, `lambda ${lambda} ∇F[${f}]`);
    // the picked movies score higher than under the prior
    const before = dot(prior, Q, 17, k);
    assert.ok(dot(fit.userVector, Q, 17, k) > before, `lambda ${lambda}`);
  }
  // the curvature is only a preconditioner: a curvature taken elsewhere reaches the same optimum
  const elsewhere = softmaxCurvature(Q, bi, k, Float32Array.of(1, 1, -1, 0));
  const a = foldInSoftmax(Q, bi, k, items, { lambda: 1, prior });
  const c = foldInSoftmax(Q, bi, k, items, { lambda: 1, prior, curvature: elsewhere, steps: 100 });
  for (let f = 0; f < k; f++) close(c.userVector[f]!, a.userVector[f]!, 1e-4, `factor ${f}`);
  assert.ok(a.steps > 0 && a.steps <= 20);
});

test('softmax fold-in: no picks keep the prior; a strong ridge stays near it; the support limits the softmax', () => {
  const k = 3;
  const { Q, bi } = itemSide(22, 30, k);
  const prior = Float32Array.of(0.5, 0, -0.5);
  assert.deepEqual(Array.from(foldInSoftmax(Q, bi, k, new Int32Array(0), { prior }).userVector), Array.from(prior));
  const strong = foldInSoftmax(Q, bi, k, Int32Array.of(4), { prior, lambda: 1e6 }).userVector;
  for (let f = 0; f < k; f++) close(strong[f]!, prior[f]!, 1e-5);
  // over a support of two movies, picking one of them pushes p towards its difference from the other
  const both = foldInSoftmax(Q, bi, k, Int32Array.of(0), { lambda: 1, candidates: Int32Array.of(0, 1) }).userVector;
  assert.ok(dot(both, Q, 0, k) - dot(both, Q, 1, k) > 0);
  assert.throws(() => foldInSoftmax(Q, bi, k, Int32Array.of(30)), /item index 30 is outside 0..29; map raw ids with the model's item IdMap first/);
  assert.throws(() => foldInSoftmax(Q, bi, k, Int32Array.of(1), { prior: new Float32Array(2) }), /prior has 2 entries for 3 factors/);
});

test('softmax table: the wasm products give the JS loops\' scores and weighted sums up to float32 rounding', () => {
  const k = 6;
  const { Q, bi } = itemSide(23, 40, k);
  const C = Int32Array.of(0, 3, 4, 9, 17, 22, 39);
  const wasm = new SoftmaxTable(Q, bi, k, C, 'wasm');
  const js = new SoftmaxTable(Q, bi, k, C, 'js');
  const p = Float64Array.of(0.3, -0.2, 0.1, 0, 0.5, -0.4);
  const a = new Float64Array(C.length);
  const b = new Float64Array(C.length);
  close(wasm.scores(p, a), js.scores(p, b), 1e-5, 'lse');
  C.forEach((j, c) => {
    close(a[c]!, bi[j]! + dot(p, Q, j, k), 1e-5, `score of ${j}`);
    close(b[c]!, bi[j]! + dot(p, Q, j, k), 1e-5, `JS score of ${j}`);
  });
  const w = Float64Array.from(C, (_, c) => 0.1 * (c + 1));
  const u = new Float64Array(k);
  const v = new Float64Array(k);
  wasm.weighted(w, u);
  js.weighted(w, v);
  for (let f = 0; f < k; f++) {
    let want = 0;
    C.forEach((j, c) => (want += w[c]! * Q[j * k + f]!));
    close(u[f]!, want, 1e-5, `weighted ${f}`);
    close(v[f]!, want, 1e-5, `JS weighted ${f}`);
  }
});

test('foldInContributions: the ratings\' shares add up to how far each score\'s factor part moved from the prior user\'s', () => {
  const k = 4;
  const { Q, bi } = itemSide(11, 30, k);
  const items = Int32Array.of(2, 7, 11, 19);
  const ratings = Float32Array.of(5, 1, 4, 3.5);
  const prior = Float32Array.of(0.1, -0.2, 0.05, 0.3);
  const options = { itemBias: bi, offset: 3.5, lambda: 0.7, biasLambda: 0.2, priorVector: prior, priorBias: 0.1 };
  const fit = foldInLinear(Q, k, items, ratings, options);
  const contributionsOf = foldInContributions(Q, k, items, ratings, options);
  for (const i of [0, 2, 13, 29]) {
    // the user bias lifts every movie alike, so it is no movie's reason and is left out
    const moved = dot(fit.userVector, Q, i, k) - dot(prior, Q, i, k);
    const shares = contributionsOf(i);
    assert.equal(shares.length, 4);
    close(shares.reduce((a, b) => a + b, 0), moved, 1e-5, `item ${i}`);
  }
  assert.throws(() => contributionsOf(30), { message: 'item index 30 is outside 0..29' });
});

test('foldInScoring fits as the model scores: on the logit scale under a y-range, linear with the offset under a clip, no bias without user biases', () => {
  const k = 2;
  const Q = Float32Array.of(1, 0, 0, 1, 0.5, 0.5, -1, 0.25);
  const bi = Float32Array.of(0.1, -0.2, 0, 0.3);
  const items = Int32Array.of(0, 1, 3);
  const ratings = Float32Array.of(4, 2, 5);
  const ridge = { lambda: 0.5, biasLambda: 0.25, priorVector: Float32Array.of(0.1, 0.2), priorBias: 0.05 };
  const base = { k, P: new Float32Array(k), Q, bu: new Float32Array(1), bi, clip: [-Infinity, Infinity] as [number, number] };
  const sigmoid = foldInScoring({ ...base, offset: 0, yRange: [0, 5.5] }, items, ratings, ridge);
  assert.deepEqual(sigmoid, foldInSigmoid(Q, k, items, ratings, { ...ridge, itemBias: bi, yRange: [0, 5.5] }));
  const linear = foldInScoring({ ...base, offset: 3.5, yRange: undefined, clip: [0.5, 5] }, items, ratings, ridge);
  assert.deepEqual(linear, foldInLinear(Q, k, items, ratings, { ...ridge, itemBias: bi, offset: 3.5 }));
  const dot = foldInScoring({ ...base, bu: undefined, bi: undefined, offset: 0, yRange: undefined }, items, ratings, ridge);
  assert.equal(dot.userBias, 0);
  assert.deepEqual(dot, foldInLinear(Q, k, items, ratings, { ...ridge, fitBias: false }));
});
