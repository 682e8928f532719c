import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import type { RatingModel } from './model.js';
import { EmbeddingNN, embSizeRule, type EmbeddingNNOptions } from './nn.js';

/** Ratings columns from plain arrays (ids are not needed by the model). */
function ratingsOf(users: number[], items: number[], values: number[]): Ratings {
  return {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from(values),
    userIds: new IdMap(),
    itemIds: new IdMap(),
  };
}

/** A small random batch over nUsers × nItems with ratings in 1..5. */
function randomBatch(nUsers: number, nItems: number, n: number, seed: number): Ratings {
  const rng = new RandomState(seed);
  const u: number[] = [];
  const i: number[] = [];
  const r: number[] = [];
  for (let t = 0; t < n; t++) {
    u.push(rng.interval(nUsers - 1));
    i.push(rng.interval(nItems - 1));
    r.push(1 + 4 * rng.random());
  }
  return ratingsOf(u, i, r);
}

function iota(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, t) => t);
}

function resetGrads(m: RatingModel): void {
  for (const p of m.params) p.grad.reset(true);
}

function param(m: RatingModel, name: string) {
  const p = m.params.find((q) => q.name === name);
  assert.ok(p, `no param ${name}`);
  return p;
}

/**
 * Plain-array re-implementation of the forward pass (no blocking, no buffers), to check the kernels:
 * train uses batch statistics (biased variance), eval the running statistics. Returns predictions.
 */
function referenceForward(m: EmbeddingNN, users: number[], items: number[], train: boolean): number[] {
  const cfg = m.config();
  const [nu, ni] = cfg.embSizes;
  const U = param(m, 'userFactors').value;
  const I = param(m, 'itemFactors').value;
  let X = users.map((u, b) => [...U.slice(u * nu, (u + 1) * nu), ...I.slice(items[b]! * ni, (items[b]! + 1) * ni)]);
  const bufs = new Map((m.buffers ?? []).map((b) => [b.name, b.value]));
  cfg.layers.forEach((nOut, l) => {
    const W = param(m, `layer${l}.weight`).value;
    const bias = param(m, `layer${l}.bias`).value;
    const gamma = param(m, `bn${l}.weight`).value;
    const beta = param(m, `bn${l}.bias`).value;
    const nIn = X[0]!.length;
    const A = X.map((x) =>
      Array.from({ length: nOut }, (_, j) => {
        let z = bias[j]!;
        for (let k = 0; k < nIn; k++) z += x[k]! * W[j * nIn + k]!;
        return Math.max(0, z);
      }),
    );
    const mean: number[] = [];
    const variance: number[] = [];
    for (let j = 0; j < nOut; j++) {
      if (train) {
        const col = A.map((a) => a[j]!);
        const mu = col.reduce((s, v) => s + v, 0) / col.length;
        mean.push(mu);
        variance.push(col.reduce((s, v) => s + (v - mu) ** 2, 0) / col.length);
      } else {
        mean.push(bufs.get(`bn${l}.runningMean`)![j]!);
        variance.push(bufs.get(`bn${l}.runningVar`)![j]!);
      }
    }
    X = A.map((a) => a.map((v, j) => (gamma[j]! * (v - mean[j]!)) / Math.sqrt(variance[j]! + 1e-5) + beta[j]!));
  });
  const w = param(m, 'out.weight').value;
  const b0 = param(m, 'out.bias').value[0]!;
  return X.map((x) => {
    const o = x.reduce((s, v, k) => s + v * w[k]!, b0);
    if (cfg.yRange === null) return o;
    const [lo, hi] = cfg.yRange;
    return lo + (hi - lo) / (1 + Math.exp(-o));
  });
}

const SMALL: EmbeddingNNOptions = { embSizes: [3, 4], layers: [6, 5], yRange: [0, 5.5] };

/**
 * A small model whose values are pushed away from init (bigger embeddings, random batch-norm affine) so
 * the loss is clearly nonlinear in every table and no gradient is trivially zero.
 */
function spicyModel(options: EmbeddingNNOptions, seed: number): EmbeddingNN {
  const m = new EmbeddingNN(7, 9, options, seed);
  const rng = new RandomState(seed + 100);
  for (const p of m.params) {
    if (p.name.endsWith('Factors')) for (let t = 0; t < p.value.length; t++) p.value[t] = rng.normal() * 0.5;
    else if (p.name.startsWith('bn') && p.name.endsWith('weight')) for (let t = 0; t < p.value.length; t++) p.value[t] = 0.5 + rng.random();
    else if (p.name.startsWith('bn')) for (let t = 0; t < p.value.length; t++) p.value[t] = rng.normal() * 0.3;
  }
  return m;
}

/**
 * Central finite differences of the batch mean squared error against the analytic gradient, for a few
 * coordinates of every table. Each evaluation builds a fresh model from the same seed, so dropout draws
 * the same masks and batch norm sees the same whole batch. Returns the worst relative error per table.
 * The model runs its float64 JS loops (kernels 'js'): differences of a float32 forward would be rounding noise;
 * the wasm kernels are checked against these loops instead.
 */
function gradientCheck(checked: EmbeddingNNOptions, seed: number): Map<string, number> {
  const options: EmbeddingNNOptions = { ...checked, kernels: 'js' };
  const data = randomBatch(7, 9, 12, seed);
  const order = iota(12);
  const base = spicyModel(options, seed);
  resetGrads(base);
  base.trainBatch(data, order, 0, 12);
  const worst = new Map<string, number>();
  const rng = new RandomState(seed + 7);
  base.params.forEach((p, pi) => {
    // Embedding coordinates only matter on rows the batch uses: check those.
    const candidates: number[] = [];
    if (p.sparse) {
      for (let t = 0; t < p.grad.count; t++) for (let f = 0; f < p.cols; f++) candidates.push(p.grad.touched[t]! * p.cols + f);
    } else for (let t = 0; t < p.value.length; t++) candidates.push(t);
    let worstRel = 0;
    for (let c = 0; c < Math.min(6, candidates.length); c++) {
      const idx = candidates[rng.interval(candidates.length - 1)]!;
      const lossAt = (delta: number): [number, number] => {
        const m = spicyModel(options, seed);
        const v = m.params[pi]!.value;
        const orig = v[idx]!;
        v[idx] = orig + delta;
        const actual = v[idx]! - orig; // float32 rounding of the step
        return [m.trainBatch(data, order, 0, 12) / 12, actual];
      };
      const h = 1e-5 * Math.max(1, Math.abs(p.value[idx]!)); // small: a ReLU kink must not fall inside ±h
      const [lp, dp] = lossAt(h);
      const [lm, dm] = lossAt(-h);
      const numeric = (lp - lm) / (dp - dm);
      const analytic = p.grad.data[idx]!;
      const rel = Math.abs(numeric - analytic) / Math.max(Math.abs(numeric), Math.abs(analytic), 1e-4);
      worstRel = Math.max(worstRel, rel);
    }
    worst.set(p.name, worstRel);
  });
  return worst;
}

test('finite differences match the analytic gradient of every table (no dropout)', (t) => {
  for (const seed of [1, 2]) {
    const worst = gradientCheck(SMALL, seed);
    assert.deepEqual([...worst.keys()], [
      'userFactors', 'itemFactors',
      'layer0.weight', 'layer0.bias', 'bn0.weight', 'bn0.bias',
      'layer1.weight', 'layer1.bias', 'bn1.weight', 'bn1.bias',
      'out.weight', 'out.bias',
    ]);
    t.diagnostic(`seed ${seed}: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
    for (const [name, rel] of worst) assert.ok(rel < 1e-4, `${name}: relative error ${rel}`);
  }
});

test('finite differences match with dropout on embeddings and hidden layers, without yRange, without hidden layers', (t) => {
  const worst = gradientCheck({ ...SMALL, embDrop: 0.3, ps: [0.2, 0.4] }, 3);
  t.diagnostic(`dropout: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
  for (const [name, rel] of worst) assert.ok(rel < 1e-4, `${name}: relative error ${rel}`);
  const linear = gradientCheck({ ...SMALL, yRange: null, layers: [5] }, 4);
  for (const [name, rel] of linear) assert.ok(rel < 1e-4, `yRange null, ${name}: relative error ${rel}`);
  const noHidden = gradientCheck({ embSizes: [3, 4], layers: [] }, 6);
  assert.deepEqual([...noHidden.keys()], ['userFactors', 'itemFactors', 'out.weight', 'out.bias']);
  for (const [name, rel] of noHidden) assert.ok(rel < 1e-4, `no hidden layer, ${name}: relative error ${rel}`);
});

test('training loss and predictions equal a plain re-implementation (batch stats in training, running stats after)', () => {
  const m = spicyModel({ ...SMALL, kernels: 'js' }, 5);
  const data = randomBatch(7, 9, 150, 5); // above the initial 64-row buffers, so they grow
  const users = Array.from(data.users);
  const items = Array.from(data.items);
  const ref = referenceForward(m, users, items, true);
  const sse = m.trainBatch(data, iota(150), 0, 150);
  const refSse = ref.reduce((s, p, b) => s + (p - data.ratings[b]!) ** 2, 0);
  assert.ok(Math.abs(sse - refSse) < 1e-9 * refSse, `${sse} vs ${refSse}`);

  const evalRef = referenceForward(m, users, items, false);
  const out = new Float32Array(150);
  m.predictMany(data.users, data.items, out);
  for (let b = 0; b < 150; b++) {
    assert.ok(Math.abs(out[b]! - evalRef[b]!) < 1e-5, `row ${b}: ${out[b]} vs ${evalRef[b]}`);
    if (b % 37 === 0) assert.ok(Math.abs(m.predict(users[b]!, items[b]!) - evalRef[b]!) < 1e-12);
  }
});

test("the wasm kernels equal the float64 JS loops up to float32 rounding: loss, every gradient, predictions", (t) => {
  // widths off and on multiples of 4 (padded rows, unit tails), dropout, and a batch that outgrows the buffers
  const cases: [EmbeddingNNOptions, number][] = [
    [SMALL, 20],
    [{ embSizes: [5, 6], layers: [37, 9], ps: [0.2, 0.1], embDrop: 0.1 }, 150],
    [{ embSizes: [8, 8], layers: [100], yRange: null }, 64],
  ];
  for (const [options, n] of cases) {
    const seed = n;
    const wasm = spicyModel({ ...options, kernels: 'wasm' }, seed);
    const js = spicyModel({ ...options, kernels: 'js' }, seed);
    const data = randomBatch(7, 9, n, seed);
    const order = iota(n);
    const sseW = wasm.trainBatch(data, order, 0, n);
    const sseJ = js.trainBatch(data, order, 0, n);
    assert.notEqual(sseW, sseJ, 'the wasm kernels did not run (bit-identical to the JS loops)');
    assert.ok(Math.abs(sseW - sseJ) < 1e-5 * sseJ, `loss ${sseW} vs ${sseJ}`);
    const worst: string[] = [];
    js.params.forEach((p, pi) => {
      const gW = wasm.params[pi]!.grad.data;
      const gJ = p.grad.data;
      let scale = 0;
      let diff = 0;
      for (let t = 0; t < gJ.length; t++) {
        scale = Math.max(scale, Math.abs(gJ[t]!));
        diff = Math.max(diff, Math.abs(gW[t]! - gJ[t]!));
      }
      worst.push(`${p.name} ${(diff / scale).toExponential(1)}`);
      assert.ok(diff <= 1e-4 * scale, `${p.name}: gradients differ by ${diff} (largest ${scale})`);
    });
    t.diagnostic(`layers ${options.layers}: ${worst.join(', ')}`);
    const outW = new Float32Array(n);
    const outJ = new Float32Array(n);
    wasm.predictMany(data.users, data.items, outW);
    js.predictMany(data.users, data.items, outJ);
    for (let b = 0; b < n; b++) assert.ok(Math.abs(outW[b]! - outJ[b]!) < 1e-4, `row ${b}: ${outW[b]} vs ${outJ[b]}`);
  }
});

test('running statistics follow PyTorch: momentum 0.1, unbiased variance, starting from mean 0 and variance 1', () => {
  const m = new EmbeddingNN(5, 6, { embSizes: [2, 2], layers: [3] }, 9);
  const data = ratingsOf([0, 1, 2, 3, 4], [5, 4, 3, 2, 1], [1, 2, 3, 4, 5]);
  m.trainBatch(data, iota(5), 0, 5);
  // ReLU outputs by hand from the parameters.
  const U = param(m, 'userFactors').value;
  const I = param(m, 'itemFactors').value;
  const W = param(m, 'layer0.weight').value;
  const bias = param(m, 'layer0.bias').value;
  const rm = m.buffers.find((b) => b.name === 'bn0.runningMean')!.value;
  const rv = m.buffers.find((b) => b.name === 'bn0.runningVar')!.value;
  for (let j = 0; j < 3; j++) {
    const a = [0, 1, 2, 3, 4].map((b) => {
      const x = [U[b * 2]!, U[b * 2 + 1]!, I[(5 - b) * 2]!, I[(5 - b) * 2 + 1]!];
      return Math.max(0, bias[j]! + x.reduce((s, v, k) => s + v * W[j * 4 + k]!, 0));
    });
    const mean = a.reduce((s, v) => s + v, 0) / 5;
    const unbiased = a.reduce((s, v) => s + (v - mean) ** 2, 0) / 4;
    assert.ok(Math.abs(rm[j]! - 0.1 * mean) < 1e-7);
    assert.ok(Math.abs(rv[j]! - (0.9 + 0.1 * unbiased)) < 1e-6);
  }
  assert.deepEqual(m.buffers.map((b) => [b.name, b.rows, b.cols]), [
    ['bn0.runningMean', 1, 3],
    ['bn0.runningVar', 1, 3],
  ]);
});

test('embedding gradients are sparse: only the batch rows are touched and the others stay zero', () => {
  const m = new EmbeddingNN(20, 30, { embSizes: [4, 5] }, 1);
  const data = ratingsOf([3, 7, 3, 11], [0, 29, 5, 5], [4, 2, 5, 1]);
  m.trainBatch(data, iota(4), 0, 4);
  const gu = param(m, 'userFactors').grad;
  const gi = param(m, 'itemFactors').grad;
  assert.deepEqual(Array.from(gu.touched.subarray(0, gu.count)), [3, 7, 11]);
  assert.deepEqual(Array.from(gi.touched.subarray(0, gi.count)), [0, 29, 5]);
  for (let u = 0; u < 20; u++) {
    const row = Array.from(gu.data.subarray(u * 4, u * 4 + 4));
    if ([3, 7, 11].includes(u)) assert.ok(row.some((v) => v !== 0), `user ${u} has no gradient`);
    else assert.ok(row.every((v) => v === 0), `user ${u} should have no gradient`);
  }
  assert.deepEqual(m.params.map((p) => [p.name, p.rows, p.cols, p.sparse, p.decay]), [
    ['userFactors', 20, 4, true, true],
    ['itemFactors', 30, 5, true, true],
    ['layer0.weight', 100, 9, false, true],
    ['layer0.bias', 1, 100, false, false],
    ['bn0.weight', 1, 100, false, false],
    ['bn0.bias', 1, 100, false, false],
    ['out.weight', 1, 100, false, true],
    ['out.bias', 1, 1, false, false],
  ]);
});

test('initialisation: trunc-normal(0.01) embeddings, PyTorch Linear bounds, batch norm 1 / 0, seeded', () => {
  const m = new EmbeddingNN(943, 1682, {}, 42);
  assert.deepEqual(m.config().embSizes, [74, 102]);
  const u = param(m, 'userFactors').value;
  let ss = 0;
  let maxAbs = 0;
  for (const v of u) {
    ss += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const std = Math.sqrt(ss / u.length);
  // fmod(2) folds the tails back into (-2, 2): the std of fmod(N(0, 1), 2) is 0.8659 (numeric integral).
  assert.ok(Math.abs(std - 0.008659) < 0.0002, `std ${std}`);
  assert.ok(maxAbs < 0.02 && maxAbs > 0.019, `max |v| ${maxAbs}`);
  const w = param(m, 'layer0.weight').value;
  const bound = 1 / Math.sqrt(74 + 102);
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w) > 0.99 * bound && Math.min(...w) < -0.99 * bound);
  assert.ok(param(m, 'bn0.weight').value.every((v) => v === 1));
  assert.ok(param(m, 'bn0.bias').value.every((v) => v === 0));
  const ob = 1 / Math.sqrt(100);
  assert.ok(param(m, 'out.weight').value.every((v) => Math.abs(v) <= ob));

  const again = new EmbeddingNN(943, 1682, {}, 42);
  const other = new EmbeddingNN(943, 1682, {}, 43);
  assert.deepEqual(param(again, 'layer0.weight').value, w);
  assert.notDeepEqual(param(other, 'layer0.weight').value, w);
});

test("fastai's embedding size rule", () => {
  assert.equal(embSizeRule(943), 74);
  assert.equal(embSizeRule(1682), 102);
  assert.equal(embSizeRule(1683), 103); // fastai's own count, with the #na# token
  assert.equal(embSizeRule(610), 58);
  assert.equal(embSizeRule(9724), 274);
  assert.equal(embSizeRule(10_000_000), 600);
});

test('config() round-trips: the same options and seed rebuild the same model', () => {
  const m = new EmbeddingNN(10, 12, { embSizes: [5, 6], layers: [8, 4], ps: 0.25, embDrop: 0.1, yRange: [0.5, 5] }, 3);
  const cfg = m.config();
  assert.deepEqual(cfg, { embSizes: [5, 6], layers: [8, 4], ps: [0.25, 0.25], embDrop: 0.1, yRange: [0.5, 5] });
  assert.deepEqual(JSON.parse(JSON.stringify(cfg)), cfg);
  const rebuilt = new EmbeddingNN(10, 12, cfg, 3);
  assert.deepEqual(rebuilt.params.map((p) => p.value), m.params.map((p) => p.value));
  assert.deepEqual(new EmbeddingNN(4, 4, {}, 0).config(), { embSizes: [3, 3], layers: [100], ps: [0], embDrop: 0, yRange: [0, 5.5] });
});

test('each option changes the result; dropout is seeded and reproducible', () => {
  const data = randomBatch(10, 12, 40, 8);
  const lossOf = (o: EmbeddingNNOptions, seed = 1): number => new EmbeddingNN(10, 12, o, seed).trainBatch(data, iota(40), 0, 40);
  const base = lossOf({});
  for (const o of [{ embSizes: [4, 4] }, { layers: [50] }, { layers: [100, 20] }, { ps: 0.5 }, { embDrop: 0.5 }, { yRange: [1, 5] }] as EmbeddingNNOptions[]) {
    assert.notEqual(lossOf(o), base, JSON.stringify(o));
  }
  assert.equal(lossOf({ ps: 0.5, embDrop: 0.2 }), lossOf({ ps: 0.5, embDrop: 0.2 }));
  assert.notEqual(lossOf({}, 2), base);

  // Dropout masks change from batch to batch in training, never in evaluation.
  const m = new EmbeddingNN(10, 12, { ps: 0.5, embDrop: 0.5 }, 1);
  assert.notEqual(m.trainBatch(data, iota(40), 0, 40), m.trainBatch(data, iota(40), 0, 40));
  assert.equal(m.predict(3, 4), m.predict(3, 4));
  // With each item once in the batch, about half of its embedding gradient is dropped by embDrop 0.5.
  resetGrads(m);
  const once = ratingsOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
  m.trainBatch(once, iota(10), 0, 10);
  const gi = param(m, 'itemFactors').grad;
  let zeros = 0;
  let total = 0;
  for (let t = 0; t < gi.count; t++) {
    for (let f = 0; f < gi.cols; f++) {
      total++;
      if (gi.data[gi.touched[t]! * gi.cols + f] === 0) zeros++;
    }
  }
  assert.ok(zeros / total > 0.3 && zeros / total < 0.7, `${zeros} / ${total} zero`);
});

test('bad options and inputs are refused with messages that say what to do', () => {
  assert.throws(() => new EmbeddingNN(10, 10, { layers: [10, 5], ps: [0.1] }), {
    code: 'INVALID_OPTION',
    message: 'ps needs one dropout probability per hidden layer (2), got 1; pass a single number to use it for every layer',
  });
  assert.throws(() => new EmbeddingNN(10, 10, { embDrop: 1 }), { message: 'embDrop must be a dropout probability in [0, 1), got 1' });
  assert.throws(() => new EmbeddingNN(10, 10, { yRange: [5, 1] }), { message: 'yRange must be [lo, hi] with hi > lo, got [5, 1]' });
  assert.throws(() => new EmbeddingNN(10, 10, { layers: [0] }), { message: 'layers[0] must be an integer >= 1, got 0' });
  assert.throws(() => new EmbeddingNN(10, 10, { embSizes: [3] as unknown as [number, number] }), {
    message: 'embSizes must be [userSize, itemSize], got 1 numbers',
  });
  assert.throws(() => new EmbeddingNN(0, 10), { message: 'nUsers must be an integer >= 1, got 0' });
  assert.throws(() => new EmbeddingNN(10, 10, { kernels: 'gpu' as never }), { code: 'INVALID_OPTION', message: 'kernels must be "wasm" or "js", got "gpu"' });
  const m = new EmbeddingNN(10, 10, { embSizes: [2, 2] });
  assert.throws(() => m.trainBatch(randomBatch(10, 10, 3, 1), iota(3), 2, 3), {
    code: 'INVALID_OPTION',
    message:
      'EmbeddingNN cannot train on a batch of 1 rating: batch norm needs at least 2 to estimate a variance; drop the last incomplete batch or change the batch size',
  });
  assert.throws(() => m.predict(10, 0), {
    code: 'UNKNOWN_USER',
    message: "user index 10 is outside 0..9; map raw ids through the model's user IdMap first",
  });
  assert.throws(() => m.predictMany(Int32Array.of(0), Int32Array.of(-1), new Float32Array(1)), { code: 'UNKNOWN_ITEM' });
  assert.equal(m.trainBatch(randomBatch(10, 10, 3, 1), iota(3), 1, 1), 0);
});

/** AdamW over whole tables (test-only stand-in for the learner), one step per batch of the mean squared error. */
function trainAdam(m: RatingModel, data: Ratings, epochs: number, batchSize: number, lr: number, seed: number): void {
  const rng = new RandomState(seed);
  const n = data.users.length;
  const state = m.params.map((p) => ({ m1: new Float64Array(p.value.length), m2: new Float64Array(p.value.length) }));
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    const order = rng.permutation(n);
    for (let start = 0; start + 2 <= n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      if (end - start < 2) break;
      resetGrads(m);
      m.trainBatch(data, order, start, end);
      step++;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.99 ** step;
      m.params.forEach((p, pi) => {
        const { m1, m2 } = state[pi]!;
        for (let t = 0; t < p.value.length; t++) {
          const g = p.grad.data[t]!;
          m1[t] = 0.9 * m1[t]! + 0.1 * g;
          m2[t] = 0.99 * m2[t]! + 0.01 * g * g;
          p.value[t] -= (lr * (m1[t]! / c1)) / (Math.sqrt(m2[t]! / c2) + 1e-5) + lr * 0.01 * p.value[t]!;
        }
      });
    }
  }
}

function mse(m: RatingModel, data: Ratings): number {
  const out = new Float32Array(data.users.length);
  m.predictMany(data.users, data.items, out);
  let s = 0;
  for (let r = 0; r < out.length; r++) s += (out[r]! - data.ratings[r]!) ** 2;
  return s / out.length;
}

test('learns a synthetic low-rank rating matrix: train and held-out MSE fall well below the start', (t) => {
  // r(u, i) = 3 + 2 · p_u · q_i with rank-2 taste vectors, plus a little noise.
  const rng = new RandomState(11);
  const nUsers = 60;
  const nItems = 80;
  const P = Array.from({ length: nUsers }, () => [rng.normal() * 0.7, rng.normal() * 0.7]);
  const Q = Array.from({ length: nItems }, () => [rng.normal() * 0.7, rng.normal() * 0.7]);
  const rows: [number, number, number][] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (rng.random() < 0.5) {
        const r = 3 + 2 * (P[u]![0]! * Q[i]![0]! + P[u]![1]! * Q[i]![1]!) + 0.1 * rng.normal();
        rows.push([u, i, Math.min(5, Math.max(1, r))]);
      }
    }
  }
  const shuffled = rng.permutation(rows.length);
  const mixed = Array.from(shuffled, (t) => rows[t]!); // every user and item on both sides of the split
  const cut = Math.floor(rows.length * 0.8);
  const pick = (a: [number, number, number][]) => ratingsOf(a.map((x) => x[0]), a.map((x) => x[1]), a.map((x) => x[2]));
  const train = pick(mixed.slice(0, cut));
  const valid = pick(mixed.slice(cut));
  const m = new EmbeddingNN(nUsers, nItems, { embSizes: [8, 8], layers: [32] }, 5);
  const before = { train: mse(m, train), valid: mse(m, valid) };
  trainAdam(m, train, 15, 32, 1e-2, 1);
  const after = { train: mse(m, train), valid: mse(m, valid) };
  // Predicting the training mean everywhere: the bar a model that learned nothing would reach.
  const mean = train.ratings.reduce((s, v) => s + v, 0) / train.ratings.length;
  const meanMse = valid.ratings.reduce((s, v) => s + (v - mean) ** 2, 0) / valid.ratings.length;
  t.diagnostic(`train ${before.train.toFixed(3)} -> ${after.train.toFixed(3)}, valid ${before.valid.toFixed(3)} -> ${after.valid.toFixed(3)} (mean-only ${meanMse.toFixed(3)})`);
  assert.ok(after.train < 0.25 * before.train, `train ${before.train} -> ${after.train}`);
  assert.ok(after.valid < 0.3 * meanMse, `valid ${after.valid} vs mean-only ${meanMse}`);
});

test('trainBatch adds to the gradients (two calls without reset give twice one call); evaluation leaves state alone', () => {
  const m = spicyModel(SMALL, 12);
  const data = randomBatch(7, 9, 10, 12);
  resetGrads(m);
  m.trainBatch(data, iota(10), 0, 10);
  const once = m.params.map((p) => Float64Array.from(p.grad.data));
  const stats = (m.buffers ?? []).map((b) => Float32Array.from(b.value));
  m.predictMany(data.users, data.items, new Float32Array(10));
  m.predict(1, 2);
  assert.deepEqual((m.buffers ?? []).map((b) => Float32Array.from(b.value)), stats);
  m.trainBatch(data, iota(10), 0, 10);
  m.params.forEach((p, pi) => {
    for (let t = 0; t < p.grad.data.length; t++) {
      const want = 2 * once[pi]![t]!;
      assert.ok(Math.abs(p.grad.data[t]! - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${p.name}[${t}]`);
    }
  });
});

test('userVectorModel: prediction equals predict() for a trained user row, and its gradient matches finite differences', () => {
  const m = new EmbeddingNN(5, 7, { embSizes: [4, 3], layers: [6, 5], yRange: [0, 5.5] }, 11);
  // give batch norm non-trivial running statistics
  for (const b of m.buffers) for (let j = 0; j < b.value.length; j++) b.value[j] = b.name.endsWith('Var') ? 0.5 + 0.1 * j : 0.05 * j;
  const fn = m.userVectorModel();
  const U = m.params.find((p) => p.name === 'userFactors')!.value;
  const u = U.slice(2 * 4, 3 * 4);
  const grad = new Float32Array(4);
  assert.ok(Math.abs(fn.predictWithUser(u, 3, grad) - m.predict(2, 3)) < 1e-5);
  const h = 1e-3;
  for (let f = 0; f < 4; f++) {
    const up = u.slice();
    const down = u.slice();
    up[f]! += h;
    down[f]! -= h;
    const scratch = new Float32Array(4);
    const numeric = (fn.predictWithUser(up, 3, scratch) - fn.predictWithUser(down, 3, scratch)) / (2 * h);
    assert.ok(Math.abs(numeric - grad[f]!) < 1e-3 * Math.max(1, Math.abs(numeric)), `coordinate ${f}: numeric ${numeric}, analytic ${grad[f]}`);
  }
});
