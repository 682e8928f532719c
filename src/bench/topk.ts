/**
 * Benchmark of top-10 for every user of an ml-latest-small-shaped model (610 users × 9,724 items × 50 factors,
 * ~165 training items excluded per user) on random factors: `topKAllUsers` per block size, FactorBlockScorer's
 * SIMD kernel with the same per-user selection, and `collab recommend --all` as it runs
 * (ModelRecommender.recommendAllUsers on a dotbias model, and writing the CSV file). Prints users/s.
 * Run: `npm run build && node dist/bench/topk.js [repeats]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import { saveTrainedModel } from '../io/trained-model.js';
import { createModel } from '../models/factory.js';
import { writeAllRecommendations } from '../recommend/all-users.js';
import { FactorBlockScorer } from '../recommend/block-scorer.js';
import { ModelRecommender } from '../recommend/recommender.js';
import { userItemsCsr } from '../data/user-items.js';
import { topKAllUsers, topKForUser } from '../maths/top-k.js';

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

async function benchAsync(label: string, run: () => Promise<unknown>): Promise<void> {
  await run();
  let best = Infinity;
  for (let rep = 0; rep < repeats; rep++) {
    const t0 = process.hrtime.bigint();
    await run();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${label}: ${best.toFixed(1)} ms for ${nUsers} users = ${Math.round((nUsers / best) * 1000)} users/s (best of ${repeats})`);
}

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

// the SIMD block kernel (scores of 32 users at once, float64 sums) then the same per-user top-k scan
const scorer = FactorBlockScorer.create(Q, nFactors, bi)!;
const row = new Float32Array(nItems);
bench('FactorBlockScorer (SIMD, blocks of 32) + topKForUser', () => {
  const block = new Int32Array(scorer.blockSize);
  const init = new Float64Array(scorer.blockSize);
  for (let start = 0; start < nUsers; start += scorer.blockSize) {
    const users = block.subarray(0, Math.min(scorer.blockSize, nUsers - start));
    for (let b = 0; b < users.length; b++) {
      users[b] = start + b;
      init[b] = 3.5 + bu[start + b]!;
    }
    const out = scorer.score(P, users, init);
    for (let b = 0; b < users.length; b++) {
      for (let i = 0; i < nItems; i++) row[i] = out[b * scorer.stride + i]!;
      const u = users[b]!;
      topKForUser(row, k, exclude.items.subarray(exclude.offsets[u]!, exclude.offsets[u + 1]!));
    }
  }
});

// collab recommend --all: a dotbias model with these tables, its sigmoid range, filters and popularity blend
const model = createModel('dotbias', nUsers, nItems, { nFactors, yRange: [0, 5.5] }, 0);
// dotbias's scoring tables are its live parameters
const scoring = model.factorScoring!();
scoring.P.set(P);
scoring.Q.set(Q);
scoring.bu!.set(bu);
scoring.bi!.set(bi);
const train = {
  users,
  items,
  ratings: new Float32Array(users.length).fill(4),
  userIds: IdMap.fromIds(Array.from({ length: nUsers }, (_, u) => u + 1)),
  itemIds: IdMap.fromIds(Array.from({ length: nItems }, (_, i) => i + 1)),
};
const rec = new ModelRecommender({ model, train, items: new Map(), history: { epochs: [] } });
bench('ModelRecommender.recommendAllUsers (dotbias, as collab recommend --all ranks)', () => {
  rec.recommendAllUsers({ n: k }, () => {});
});
const dir = mkdtempSync(join(tmpdir(), 'collab-bench-topk-'));
try {
  await benchAsync('collab recommend --all --out (writeAllRecommendations, one thread, CSV written atomically)', () => writeAllRecommendations(rec, join(dir, 'recs.csv'), { n: k }));
  // two threads: the worker loads the model file, as collab recommend --all does
  const modelPath = join(dir, 'model.json');
  saveTrainedModel(modelPath, { model, train, items: new Map(), history: { epochs: [] } });
  await benchAsync('collab recommend --all --out, two threads (the worker loads the model file)', () =>
    writeAllRecommendations(rec, join(dir, 'recs.csv'), { n: k }, { modelPath, threads: 2 }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
