/**
 * Benchmark of fold-in: milliseconds to fit one new user from 10 ratings against an ml-latest-small-shaped
 * item side (9,724 items × 50 factors, random), for each solver, and for fold-in plus a top-10 over all items.
 * Run: `npm run build && node dist/bench/fold-in.js [users]`.
 */
import { RandomState } from '../core/random.js';
import { foldInLinear, foldInSigmoid, foldInGradient, type UserVectorModel } from '../recommend/fold-in.js';
import { topKForUser } from '../maths/top-k.js';

const nItems = 9724;
const k = 50;
const nRated = 10;
const users = Number(process.argv[2] ?? 200);
const rng = new RandomState(0);
const Q = Float32Array.from({ length: nItems * k }, () => 0.1 * rng.normal());
const bi = Float32Array.from({ length: nItems }, () => 0.3 * rng.normal());
const asks = Array.from({ length: users }, () => ({
  items: Int32Array.from({ length: nRated }, () => rng.interval(nItems - 1)),
  ratings: Float32Array.from({ length: nRated }, () => 1 + rng.interval(8) / 2),
}));

const model: UserVectorModel = {
  userSize: k + 1,
  predictWithUser(u, i, grad) {
    let s = u[k]! + bi[i]! + 3.5;
    for (let f = 0; f < k; f++) {
      grad[f] = Q[i * k + f]!;
      s += u[f]! * Q[i * k + f]!;
    }
    grad[k] = 1;
    return s;
  },
};

function bench(label: string, run: (t: number) => void): void {
  for (let t = 0; t < Math.min(users, 20); t++) run(t); // warm-up: JIT
  const t0 = process.hrtime.bigint();
  for (let t = 0; t < users; t++) run(t);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${label}: ${(ms / users).toFixed(3)} ms per user (${users} users)`);
}

console.log(`fold-in of ${nRated} ratings, ${nItems} items × ${k} factors, node ${process.version}`);
bench('foldInLinear (ridge, Cholesky 51×51)', (t) => {
  foldInLinear(Q, k, asks[t]!.items, asks[t]!.ratings, { itemBias: bi, offset: 3.5 });
});
bench('foldInSigmoid (logit start + Gauss-Newton, yRange [0, 5.5])', (t) => {
  foldInSigmoid(Q, k, asks[t]!.items, asks[t]!.ratings, { itemBias: bi, yRange: [0, 5.5] });
});
bench('foldInGradient (Adam, 300 steps, linear callback)', (t) => {
  foldInGradient(model, nItems, asks[t]!.items, asks[t]!.ratings);
});
const scores = new Float32Array(nItems);
bench('foldInLinear + score all items + top-10', (t) => {
  const ask = asks[t]!;
  const r = foldInLinear(Q, k, ask.items, ask.ratings, { itemBias: bi, offset: 3.5 });
  const p = r.userVector;
  for (let i = 0; i < nItems; i++) {
    let s = 0;
    for (let f = 0; f < k; f++) s += p[f]! * Q[i * k + f]!;
    scores[i] = s + bi[i]!;
  }
  topKForUser(scores, 10, Int32Array.from(ask.items).sort());
});
