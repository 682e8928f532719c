/**
 * Benchmark of EmbeddingNN's forward + backward kernel (no optimizer) on a synthetic stream of batches
 * shaped like ml-100k (943 users × 1682 items, embeddings 74 + 103 → 100) and ml-latest-small
 * (610 × 9724, 58 + 274 → 100). Prints samples/s per shape; run `node dist/bench/nn-kernel.js [seconds]`.
 */
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';
import { EmbeddingNN } from '../models/nn.js';

interface Shape {
  name: string;
  nUsers: number;
  nItems: number;
  embSizes: [number, number];
  nRatings: number;
}

const shapes: Shape[] = [
  { name: 'ml-100k', nUsers: 943, nItems: 1682, embSizes: [74, 103], nRatings: 80_000 },
  { name: 'ml-latest-small', nUsers: 610, nItems: 9724, embSizes: [58, 274], nRatings: 80_668 },
];

/** Random ratings of the given shape (indices uniform, ratings 1..5). */
function synthetic(s: Shape, rng: RandomState): Ratings {
  const users = new Int32Array(s.nRatings);
  const items = new Int32Array(s.nRatings);
  const ratings = new Float32Array(s.nRatings);
  for (let r = 0; r < s.nRatings; r++) {
    users[r] = rng.interval(s.nUsers - 1);
    items[r] = rng.interval(s.nItems - 1);
    ratings[r] = 1 + rng.interval(4);
  }
  return { users, items, ratings, userIds: new IdMap(), itemIds: new IdMap() };
}

function run(s: Shape, seconds: number, batchSize: number): void {
  const rng = new RandomState(0);
  const data = synthetic(s, rng);
  const model = new EmbeddingNN(s.nUsers, s.nItems, { embSizes: s.embSizes, yRange: [0, 5.5] }, 42);
  const order = rng.permutation(s.nRatings);
  const step = (start: number): void => {
    const end = Math.min(start + batchSize, s.nRatings);
    model.trainBatch(data, order, start, end);
    for (const p of model.params) p.grad.reset(!p.sparse);
  };
  // Warm-up so the timed part runs optimised code.
  for (let start = 0; start < 200 * batchSize; start += batchSize) step(start % (s.nRatings - batchSize));
  let samples = 0;
  let start = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let t = 0; t < 50; t++) {
      if (start + batchSize > s.nRatings) start = 0;
      step(start);
      start += batchSize;
      samples += batchSize;
    }
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const perSec = samples / elapsed;
  const epochs5 = (5 * s.nRatings) / perSec;
  console.log(
    `${s.name}: ${s.embSizes[0]}+${s.embSizes[1]} -> 100, batch ${batchSize}: ${Math.round(perSec)} samples/s ` +
      `(forward+backward+grad reset; 5 epochs of ${s.nRatings} would take ${epochs5.toFixed(1)} s)`,
  );
}

const seconds = Number(process.argv[2] ?? 3);
for (const s of shapes) run(s, seconds, 64);
