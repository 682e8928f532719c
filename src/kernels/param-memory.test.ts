import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { SIMD_SHARED_WASM_BASE64, SIMD_WASM_BASE64 } from './simd-wasm.js';
import { addPairGrad, dotRows } from '../models/factor-kernels.js';
import { bindParamMemory, paramMemories, paramMemory } from './param-memory.js';

test('the committed kernel bytes are what wabt compiles from each src/kernels/*.wat (run npm run build:kernels after editing one)', async () => {
  const script: {
    kernelNames(): string[];
    constantPrefix(name: string): string;
    compileKernels(name: string): Promise<{ plain: Buffer; shared: Buffer }>;
  } = await import(new URL('../../scripts/build-kernels.mjs', import.meta.url).href);
  const names = script.kernelNames();
  assert.ok(names.includes('simd'), `kernel modules found: ${names.join(', ')}`);
  for (const name of names) {
    const bytes = await script.compileKernels(name);
    const generated = (await import(`./${name}-wasm.js`)) as Record<string, string>;
    const prefix = script.constantPrefix(name);
    assert.equal(generated[`${prefix}_WASM_BASE64`], bytes.plain.toString('base64'), `${name}.wat`);
    assert.equal(generated[`${prefix}_SHARED_WASM_BASE64`], bytes.shared.toString('base64'), `${name}.wat (shared memory)`);
  }
  // the static import above is the same module the loop read
  assert.ok(SIMD_WASM_BASE64.length > 0 && SIMD_SHARED_WASM_BASE64.length > 0);
});

test('a shared param memory lives on a SharedArrayBuffer, and a second binding (a worker\'s) sees and steps the same floats', () => {
  const mem = paramMemory(6, true)!;
  assert.ok(mem.value.buffer instanceof SharedArrayBuffer);
  assert.ok(!(paramMemory(6)!.value.buffer instanceof SharedArrayBuffer));
  const other = bindParamMemory(mem.kernel.memory, 6, 6, mem.kernel.valueOffset);
  mem.value.fill(1);
  mem.grad.fill(0.5);
  const k = other.kernel;
  k.list[0] = 0;
  k.sc.set([0.9, 0.99, 1, 0, 1]);
  k.exports.adamwRows(k.listOffset, 1, 6, k.valueOffset, k.gradOffset, k.stateOffset, k.scOffset, 0.1, 0.01, 1, 1e-5, 0.01, 1);
  assert.ok(mem.grad.every((x) => x === 0), 'the other instance zeroed the gradient in the same memory');
  assert.ok(mem.kernel.state.subarray(0, 6).every((x) => Math.abs(x - 0.05) < 1e-7), 'first moments');
  assert.ok(mem.kernel.state.subarray(6, 12).every((x) => Math.abs(x - 0.0025) < 1e-9), 'second moments');
  assert.ok(mem.value.every((x) => x < 1));
});

test('a param memory holds value, grad and state (two floats each) as disjoint, zeroed, 16-byte aligned views', () => {
  const mem = paramMemory(7)!;
  assert.ok(mem, 'this Node compiles the SIMD kernels');
  const k = mem.kernel;
  const views = [mem.value, mem.grad, k.state];
  const offsets = [k.valueOffset, k.gradOffset, k.stateOffset];
  views.forEach((a, j) => {
    assert.equal(a.length, j === 2 ? 14 : 7);
    assert.equal(a.byteOffset, offsets[j]);
    assert.equal(a.byteOffset % 16, 0);
    assert.ok(a.every((x) => x === 0));
    a.fill(j + 1);
  });
  views.forEach((a, j) => assert.ok(a.every((x) => x === j + 1), `view ${j} was not overwritten by another`));
});

test('adamwRows equals the JS AdamW row formula: within float32 rounding in lanes, bit for bit in float64, for rows of 1, 3, 4, 7 and 50 floats', () => {
  const rng = new RandomState(11);
  for (const [n, wide] of [1, 3, 4, 7, 50].flatMap((n) => [[n, 1], [n, 0]] as const)) {
    const rows = 3;
    const mem = paramMemory(rows * n, false, rows)!;
    const k = mem.kernel;
    const w = mem.value;
    const g = mem.grad;
    const state = k.state;
    for (const a of [w, g]) for (let e = 0; e < a.length; e++) a[e] = rng.normal() * 0.1;
    // each row's [m | v]
    for (let e = 0; e < state.length; e++) state[e] = e % (2 * n) < n ? rng.normal() * 0.1 : rng.random() * 0.01;
    const before = [w, g, state].map((a) => Float64Array.from(a));
    const [b1m, b2v, c1, c2, isb, eps, keepA, keepC, isb0, step] = [0.81, 0.97, 0.1, 0.01, 1.3, 1e-5, 0.9995, 2e-4, 1.7, 4e-3];
    const row = 1;
    k.list[0] = row;
    k.sc.set([b1m, b2v, keepA, keepC, isb0]);
    k.exports.adamwRows(k.listOffset, 1, n, k.valueOffset, k.gradOffset, k.stateOffset, k.scOffset, c1, c2, isb, eps, step, wide);
    const [w0, g0, s0] = before as [Float64Array, Float64Array, Float64Array];
    for (let e = 0; e < rows * n; e++) {
      if (e < row * n || e >= (row + 1) * n) {
        // other rows are untouched
        assert.equal(w[e], Math.fround(w0[e]!));
        assert.equal(g[e], Math.fround(g0[e]!));
        assert.equal(state[e + n * Math.floor(e / n)], Math.fround(s0[e + n * Math.floor(e / n)]!));
        continue;
      }
      // r0 ← m / (sqrt(v) isb0 + eps); m ← b1m m + c1 g; v ← b2v v + c2 g²; p ← keepA p - keepC r0 - step m / (sqrt(v) isb + eps); g ← 0
      const mi = 2 * n * row + (e - row * n);
      const r0 = s0[mi]! / (Math.sqrt(s0[mi + n]!) * isb0 + eps);
      const me = b1m * s0[mi]! + c1 * g0[e]!;
      const ve = b2v * s0[mi + n]! + c2 * g0[e]! * g0[e]!;
      const we = keepA * w0[e]! - keepC * r0 - step * (me / (Math.sqrt(ve) * isb + eps));
      const close = (got: number, want: number, what: string) =>
        wide
          ? assert.ok(Math.abs(got - want) <= 4e-7 * Math.max(1, Math.abs(want)), `n ${n}, element ${e}: ${what} ${got} vs ${want}`)
          : assert.equal(got, Math.fround(want), `n ${n}, element ${e}: ${what} (float64)`);
      close(state[mi]!, me, 'm');
      close(state[mi + n]!, ve, 'v');
      close(w[e]!, we, 'p');
      assert.equal(g[e], 0);
    }
  }
});

test('wasm dotRows and addPairGrad equal the JS loops of factor-kernels.ts bit for bit, for rows of 1, 3, 4, 7 and 50 floats', () => {
  const rng = new RandomState(12);
  for (const k of [1, 3, 4, 7, 50]) {
    const [pm, qm] = paramMemories([4 * k, 5 * k])!;
    const P = pm!.value;
    const Q = qm!.value;
    for (const a of [P, Q, pm!.grad, qm!.grad]) for (let e = 0; e < a.length; e++) a[e] = rng.normal();
    const gP = Float32Array.from(pm!.grad);
    const gQ = Float32Array.from(qm!.grad);
    const ex = pm!.kernel.exports;
    for (let n = 0; n < 20; n++) {
      const uRow = (n % 4) * k;
      const iRow = ((n * 3) % 5) * k;
      const acc = rng.normal();
      const want = dotRows(P, uRow, Q, iRow, k, acc);
      assert.equal(ex.dotRows(pm!.kernel.valueOffset + uRow * 4, qm!.kernel.valueOffset + iRow * 4, k, acc), want, `k ${k} dot`);
      const g = rng.normal() * 0.3;
      addPairGrad(gP, gQ, P, Q, uRow, iRow, k, g);
      ex.addPairGrad(pm!.kernel.gradOffset + uRow * 4, qm!.kernel.gradOffset + iRow * 4, pm!.kernel.valueOffset + uRow * 4, qm!.kernel.valueOffset + iRow * 4, k, g);
    }
    assert.deepEqual(pm!.grad, gP, `k ${k} gP`);
    assert.deepEqual(qm!.grad, gQ, `k ${k} gQ`);
  }
});

test('tables beyond a 4 GiB memory get no kernel memory (plain arrays, JS loops) instead of failing', () => {
  assert.equal(paramMemories([2 ** 28, 2 ** 28]), undefined);
});
