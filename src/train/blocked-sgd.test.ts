import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../core/random.js';
import { sgdLayout, sgdMemory } from '../kernels/sgd-memory.js';
import { funkSgd } from '../models/mf.js';

test('the wasm SGD kernel makes funkSgd\'s updates (float32 lanes against float64 sums: equal to rounding)', () => {
  const rng = new RandomState(3);
  const nUsers = 7;
  const nItems = 9;
  const n = 200;
  for (const k of [3, 4, 5, 8, 9, 13]) {
    const L = sgdLayout(nUsers, nItems, k, n);
    const mem = sgdMemory(L, false)!;
    const buf = mem.memory.buffer;
    const users = new Int32Array(buf, L.users, n);
    const items = new Int32Array(buf, L.items, n);
    const ratings = new Float32Array(buf, L.ratings, n);
    for (let r = 0; r < n; r++) {
      users[r] = Math.floor(rng.random() * nUsers);
      items[r] = Math.floor(rng.random() * nItems);
      ratings[r] = 1 + Math.floor(rng.random() * 5);
    }
    const P = new Float32Array(nUsers * k).map(() => rng.normal() * 0.1);
    const Q = new Float32Array(nItems * k).map(() => rng.normal() * 0.1);
    const bu = new Float32Array(nUsers);
    const bi = new Float32Array(nItems);
    const wP = new Float32Array(buf, L.P, nUsers * L.kp);
    const wQ = new Float32Array(buf, L.Q, nItems * L.kp);
    for (let u = 0; u < nUsers; u++) wP.set(P.subarray(u * k, (u + 1) * k), u * L.kp);
    for (let i = 0; i < nItems; i++) wQ.set(Q.subarray(i * k, (i + 1) * k), i * L.kp);
    const order = Int32Array.from({ length: n }, (_, j) => j);
    const want = funkSgd(P, Q, bu, bi, k, 3.5, users.slice(), items.slice(), ratings.slice(), order, 10, 190, 0.05, 0.02);
    const got = mem.exports.sgdRange(L.P, L.Q, L.bu, L.bi, L.users, L.items, L.ratings, 10, 190, L.kp, 3.5, 0.05, 0.02);
    assert.ok(Math.abs(got - want) < 1e-4 * want, `k ${k}: sse ${got} vs ${want}`);
    for (let u = 0; u < nUsers; u++) {
      for (let f = 0; f < L.kp; f++) {
        const w = f < k ? P[u * k + f]! : 0;
        assert.ok(Math.abs(wP[u * L.kp + f]! - w) < 1e-5, `k ${k}: P[${u}, ${f}] ${wP[u * L.kp + f]} vs ${w} (padding stays 0)`);
      }
    }
    const wbi = new Float32Array(buf, L.bi, nItems);
    for (let i = 0; i < nItems; i++) assert.ok(Math.abs(wbi[i]! - bi[i]!) < 1e-5, `k ${k}: bi[${i}]`);
  }
});
