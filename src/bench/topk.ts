/**
 * Benchmark of `topKAllUsers`: top-10 for every user of an ml-latest-small-shaped model
 * (610 users × 9,724 items × 50 factors, ~165 training items excluded per user) on random factors.
 * Prints users/s per block size. Run: `npm run build && node dist/bench/topk.js [repeats]`.
 */
import { RandomState } from '../core/random.js';
import { userItemsCsr } from '../evaluate/protocol.js';
import { topKAllUsers, topKForUser } from './../recommend/top-k.js';

const nUsers = 610;
const nItems = 9724;
const nFactors = 50;
const k = 10;
const ratedPerUser = 165;
const repeats = Number(process.argv[2] ?? 5);

const rng = new RandomState(0);
const P = new Float32Array(nUsers * nFactors);
const Q = new Float32Array(nItems * nFactors);
const bu = new Float32Array(nUsers);
const bi = new Float32Array(nItems);
for (let x = 0; x < P.length; x++) P[x] = 0.1 * rng.normal();
for (let x = 0; x < Q.length; x++) Q[x] = 0.1 * rng.normal();
for (let x = 0; x < nUsers; x++) bu[x] = 0.1 * rng.normal();
for (let x = 0; x < nItems; x++) bi[x] = 0.1 * rng.normal();
const users = new Int32Array(nUsers * ratedPerUser);
const items = new Int32Array(nUsers * ratedPerUser);
for (let r = 0; r < users.length; r++) {
  users[r] = Math.floor(r / ratedPerUser);
  items[r] = rng.interval(nItems - 1);
}
const exclude = userItemsCsr(users, items, nUsers);

function bench(label: string, run: () => void): void {
  run(); // warm-up: JIT
  let best = Infinity;
  for (let rep = 0; rep < repeats; rep++) {
    const t0 = process.hrtime.bigint();
    run();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    best = Math.min(best, ms);
  }
  console.log(`${label}: ${best.toFixed(1)} ms for ${nUsers} users = ${Math.round((nUsers / best) * 1000)} users/s (best of ${repeats})`);
}

console.log(`top-${k}, ${nUsers} users × ${nItems} items × ${nFactors} factors, ${ratedPerUser} excluded per user, node ${process.version}`);
for (const blockSize of [8, 32, 128]) {
  bench(`topKAllUsers blockSize ${blockSize}`, () => {
    topKAllUsers(P, Q, k, bu, bi, exclude, { nFactors, blockSize, offset: 3.5 });
  });
}
// reference: per-user float64 dot products then topKForUser (no blocking)
const scores = new Float32Array(nItems);
bench('per-user dot + topKForUser', () => {
  for (let u = 0; u < nUsers; u++) {
    const uRow = u * nFactors;
    for (let i = 0; i < nItems; i++) {
      const iRow = i * nFactors;
      let dot = 0;
      for (let f = 0; f < nFactors; f++) dot += P[uRow + f]! * Q[iRow + f]!;
      scores[i] = dot + bi[i]!;
    }
    topKForUser(scores, k, exclude.items.subarray(exclude.offsets[u]!, exclude.offsets[u + 1]!));
  }
});
