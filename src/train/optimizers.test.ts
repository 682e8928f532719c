import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { makeParam } from '../models/init.js';
import { Grad, type Param } from '../models/model.js';
import { bindParamMemory } from '../kernels/param-memory.js';
import { AdamW, SGD, makeOptimizer } from './optimizers.js';
import { oneCycle } from './schedules.js';

function param(name: string, rows: number, cols: number, sparse: boolean, rng: RandomState, wasm = false): Param {
  const p: Param = wasm ? makeParam(name, rows, cols, sparse) : { name, rows, cols, value: new Float32Array(rows * cols), grad: new Grad(rows, cols), sparse, decay: true };
  for (let j = 0; j < p.value.length; j++) p.value[j] = rng.normal() * 0.1;
  return p;
}

/** Which rows a step touches: `always` every step, the rest with probability p, `rare` only at the given steps. */
interface Plan {
  steps: number;
  p: number;
  always: number[];
  rare: Map<number, number[]>;
}

/**
 * Runs the lazy optimizer and a dense PyTorch-style reference (every row, every step, float64) on the same
 * random sparse gradients and returns the largest |lazy - dense| over all entries after a flush.
 */
function compare(kind: 'adam' | 'sgd', plan: Plan, wd: number, eps: number, schedule: 'one-cycle' | 'constant', wasm = false): number {
  const rng = new RandomState(5);
  // with wasm, the tables live in WebAssembly memories and AdamW steps them with the SIMD kernel (rows of 6: a 2-float tail)
  const params = wasm
    ? [param('emb', 8, 6, true, rng, true), param('bias', 8, 1, true, rng, true), param('dense', 3, 5, false, rng, true)]
    : [param('emb', 8, 3, true, rng), param('bias', 8, 1, true, rng), param('dense', 2, 2, false, rng)];
  if (wasm) assert.ok(params.every((p) => p.kernel !== undefined), 'makeParam gives every non-shared table a kernel');
  const ref = params.map((p) => Float64Array.from(p.value));
  const m1 = params.map((p) => new Float64Array(p.value.length));
  const m2 = params.map((p) => new Float64Array(p.value.length));
  const opt = kind === 'adam' ? new AdamW(params, { wd, eps }) : new SGD(params, { wd });
  const sched = oneCycle(kind === 'adam' ? 0.05 : 0.1);
  const gradRng = new RandomState(9);
  for (let t = 1; t <= plan.steps; t++) {
    const pos = (t - 1) / plan.steps;
    const lr = schedule === 'one-cycle' ? sched.lr(pos) : 0.05;
    const mom = schedule === 'one-cycle' ? sched.mom(pos) : 0.9;
    const grads = params.map((p) => new Float64Array(p.value.length));
    for (let j = 0; j < params.length; j++) {
      const p = params[j]!;
      for (let row = 0; row < p.rows; row++) {
        const hit = !p.sparse || plan.always.includes(row) || (plan.rare.has(row) ? plan.rare.get(row)!.includes(t) : gradRng.random() < plan.p);
        if (!hit) continue;
        p.grad.touch(row);
        for (let c = 0; c < p.cols; c++) {
          const g = Math.fround(gradRng.normal() * 0.1);
          p.grad.data[row * p.cols + c] = g;
          grads[j]![row * p.cols + c] = g;
        }
      }
    }
    opt.step(lr, mom);
    // dense reference: torch.optim.AdamW / torch.optim.SGD semantics on every entry
    for (let j = 0; j < params.length; j++) {
      const w = ref[j]!;
      const g = grads[j]!;
      for (let e = 0; e < w.length; e++) {
        if (kind === 'adam') {
          w[e] = w[e]! * (1 - lr * wd);
          m1[j]![e] = mom * m1[j]![e]! + (1 - mom) * g[e]!;
          m2[j]![e] = 0.99 * m2[j]![e]! + 0.01 * g[e]! * g[e]!;
          const bc1 = 1 - Math.pow(mom, t);
          const bc2 = 1 - Math.pow(0.99, t);
          w[e] = w[e]! - (lr / bc1) * m1[j]![e]! / (Math.sqrt(m2[j]![e]!) / Math.sqrt(bc2) + eps);
        } else {
          const d = g[e]! + wd * w[e]!;
          m1[j]![e] = mom * m1[j]![e]! + d;
          w[e] = w[e]! - lr * m1[j]![e]!;
        }
      }
    }
  }
  opt.flush();
  let worst = 0;
  params.forEach((p, j) => p.value.forEach((v, e) => (worst = Math.max(worst, Math.abs(v - ref[j]![e]!)))));
  return worst;
}

test('lazy AdamW equals dense AdamW exactly (up to float32) when eps = 0 and gaps stay inside the window', () => {
  const plan: Plan = { steps: 150, p: 0.3, always: [0], rare: new Map([[7, [1, 40, 90, 140]]]) };
  // every row is touched at step 1 so eps = 0 never divides 0 by 0
  for (let row = 1; row < 7; row++) plan.rare.set(row, [1, ...Array.from({ length: 149 }, (_, s) => s + 2).filter((t) => (t * (row + 3)) % 11 === 0)]);
  assert.ok(compare('adam', plan, 0.1, 0, 'one-cycle') < 2e-5);
  assert.ok(compare('adam', plan, 0.1, 0, 'one-cycle', true) < 2e-5);
});

test('lazy AdamW stays within 1e-3 of dense AdamW with eps 1e-5 and gaps longer than the window', () => {
  const plan: Plan = { steps: 300, p: 0.2, always: [0], rare: new Map([[6, [3, 200]], [7, []]]) };
  const worst = compare('adam', plan, 0.1, 1e-5, 'one-cycle');
  assert.ok(worst < 1e-3, `max difference ${worst}`);
  const worstWasm = compare('adam', plan, 0.1, 1e-5, 'one-cycle', true);
  assert.ok(worstWasm < 1e-3, `max difference with the wasm kernel ${worstWasm}`);
});

test('lazy SGD with momentum and weight decay equals dense SGD (constant lr and one-cycle)', () => {
  const plan: Plan = { steps: 200, p: 0.25, always: [0], rare: new Map([[6, [5, 150]], [7, []]]) };
  assert.ok(compare('sgd', plan, 0.05, 0, 'constant') < 1e-5);
  assert.ok(compare('sgd', plan, 0.05, 0, 'one-cycle') < 1e-5);
});

test('untouched rows still decay: a never-touched row shrinks by the product of (1 - lr wd)', () => {
  const rng = new RandomState(1);
  const p = param('emb', 2, 1, true, rng);
  p.value.set([1, 1]);
  const opt = new AdamW([p], { wd: 0.5 });
  for (let t = 0; t < 10; t++) {
    p.grad.touch(0);
    p.grad.data[0] = 0.1;
    opt.step(0.1, 0.9);
  }
  opt.flush();
  assert.ok(Math.abs(p.value[1]! - Math.pow(1 - 0.05, 10)) < 1e-6);
});

test('makeOptimizer rejects an unknown kind with the accepted values', () => {
  assert.throws(() => makeOptimizer('rmsprop' as never, []), /optimizer must be "sgd" or "adam", got "rmsprop"/);
});

test('AdamW rejects an unknown kernels option with the accepted values', () => {
  assert.throws(() => new AdamW([], { kernels: 'gpu' as never }), /kernels must be "wasm" or "js", got "gpu"/);
});

test('AdamW share: a part out of range, or a param whose state the parts could not share, is refused', () => {
  assert.throws(() => new AdamW([], { share: { part: 2, parts: 2 } }), /share.part must be an integer from 0 to 1, got 2/);
  const plain: Param = { name: 'userFactors', rows: 3, cols: 4, value: new Float32Array(12), grad: new Grad(3, 4), sparse: true, decay: true };
  assert.throws(() => new AdamW([plain], { share: { part: 0, parts: 2 } }), /share: every param needs a kernel memory/);
});

test('two AdamW parts over the same tables (even rows and odd rows, as two threads step them) equal one AdamW bit for bit', () => {
  const rng = new RandomState(21);
  // the reference tables and the shared ones start equal; rows of 6 floats take the f32x4 kernel, biases the float64 loop
  const shape: [string, number, number][] = [['emb', 9, 6], ['bias', 9, 1]];
  const ref = shape.map(([name, rows, cols]) => param(name, rows, cols, true, rng, true));
  const mine = shape.map(([name, rows, cols], j) => {
    const p = makeParam(name, rows, cols, true);
    p.value.set(ref[j]!.value);
    return p;
  });
  // the other part binds its own kernel instance (scratch slot 1) and Grad view over the same memory, as the split worker does
  const theirs: Param[] = mine.map((p) => {
    const grad = new Grad(0, p.cols);
    Object.assign(grad, { rows: p.rows, data: p.grad.data, touched: p.grad.touched });
    const kernel = bindParamMemory(p.kernel!.memory, p.rows * p.cols, p.rows, p.kernel!.valueOffset, 1).kernel;
    return { ...p, grad, kernel };
  });
  const one = new AdamW(ref, { wd: 0.1 });
  const part0 = new AdamW(mine, { wd: 0.1, share: { part: 0, parts: 2 } });
  const part1 = new AdamW(theirs, { wd: 0.1, share: { part: 1, parts: 2 }, lastSteps: part0.lastSteps });
  const sched = oneCycle(0.05);
  const steps = 200;
  let stepped = 0;
  for (let t = 1; t <= steps; t++) {
    // a few rows a step, row 8 only twice (gaps past the 64-step momentum window)
    const rows = [0, 1, 2, 3, 4, 5, 6, 7].filter(() => rng.random() < 0.3);
    if (t === 3 || t === 150) rows.push(8);
    for (const row of rows) {
      for (let j = 0; j < shape.length; j++) {
        const cols = shape[j]![2];
        ref[j]!.grad.touch(row);
        mine[j]!.grad.touch(row);
        for (let c = 0; c < cols; c++) {
          const g = rng.normal();
          ref[j]!.grad.data[row * cols + c] = g;
          mine[j]!.grad.data[row * cols + c] = g;
        }
      }
    }
    stepped += rows.length;
    const lr = sched.lr((t - 1) / steps);
    const mom = sched.mom((t - 1) / steps);
    one.step(lr, mom);
    for (let j = 0; j < shape.length; j++) theirs[j]!.grad.count = mine[j]!.grad.count;
    part1.step(lr, mom);
    part0.step(lr, mom);
  }
  assert.ok(stepped > 100, 'the plan touched rows');
  one.flush();
  part0.flush();
  part1.flush();
  for (let j = 0; j < shape.length; j++) assert.deepEqual(mine[j]!.value, ref[j]!.value, `${shape[j]![0]}: the parts' values`);
});

test('the first AdamW over a wasm param claims its state; a second one (an lr finder) keeps its own and leaves it alone', () => {
  const rng = new RandomState(3);
  const p = param('emb', 4, 8, true, rng, true);
  const first = new AdamW([p], { wd: 0.1 });
  p.grad.touch(1);
  p.grad.data.fill(0.5, 8, 16);
  first.step(0.01, 0.9);
  const m = p.kernel!.state.slice();
  assert.ok(m[16]! > 0, 'the kernel wrote the first moment into the param memory (row 1: m at 16..23)');
  assert.equal(p.kernel!.owner, first);
  const second = new AdamW([p], { wd: 0.1 });
  p.grad.touch(1);
  p.grad.data.fill(-0.5, 8, 16);
  second.step(0.01, 0.9);
  assert.deepEqual(p.kernel!.state, m);
});

test("kernels 'js' and 'wasm' give the same trajectory up to float32 rounding", () => {
  const run = (kernels: 'wasm' | 'js') => {
    const rng = new RandomState(8);
    const params = [param('emb', 6, 7, true, rng, true), param('dense', 2, 9, false, rng, true)];
    const opt = new AdamW(params, { wd: 0.1, kernels });
    const gradRng = new RandomState(4);
    for (let t = 0; t < 30; t++) {
      for (const p of params) {
        for (let row = 0; row < p.rows; row++) {
          if (p.sparse && gradRng.random() < 0.5) continue;
          p.grad.touch(row);
          for (let e = row * p.cols; e < (row + 1) * p.cols; e++) p.grad.data[e] = gradRng.normal() * 0.1;
        }
      }
      opt.step(0.01, 0.9);
    }
    opt.flush();
    return params.map((p) => Array.from(p.value));
  };
  const js = run('js').flat();
  const wasm = run('wasm').flat();
  const worst = Math.max(...js.map((x, e) => Math.abs(x - wasm[e]!)));
  assert.ok(worst > 0 && worst < 1e-6, `max |js - wasm| ${worst}`);
});
