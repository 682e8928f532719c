/**
 * Benchmark of EmbeddingNN's forward + backward kernel (no optimizer in the timed part) on batches of 64
 * shaped like ml-100k (embeddings 74 + 103 → 100 → 1) and ml-latest-small (58 + 274 → 100 → 1).
 * With COLLAB_DATA_DIR set it streams the real seed-42 training splits, otherwise random ratings of the
 * same shape. Prints samples/s (wall clock and per CPU second, the latter less disturbed by other load).
 *
 *   node dist/bench/nn-kernel.js [seconds per shape, default 3]
 */
import { join } from 'node:path';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import { readRatingsFile } from '../data/read-delimited.js';
import type { Ratings } from '../data/ratings.js';
import { EmbeddingNN } from '../models/nn.js';

interface Shape {
  name: string;
  nUsers: number;
  nItems: number;
  embSizes: [number, number];
  nRatings: number;
  /** Training split under COLLAB_DATA_DIR. */
  split: string;
}

const shapes: Shape[] = [
  { name: 'ml-100k', nUsers: 943, nItems: 1682, embSizes: [74, 103], nRatings: 80_000, split: 'splits/ml-100k-seed42/train.csv' },
  { name: 'ml-latest-small', nUsers: 610, nItems: 9724, embSizes: [58, 274], nRatings: 80_668, split: 'splits/ml-latest-small-seed42/train.csv' },
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

/** Adam (betas 0.9 / 0.99, eps 1e-5), lazy on embedding rows: only for the untimed warm-up. */
class WarmupAdam {
  private readonly m1: Float32Array[];
  private readonly m2: Float32Array[];
  private step = 0;

  constructor(
    private readonly model: EmbeddingNN,
    private readonly lr: number,
  ) {
    this.m1 = model.params.map((p) => new Float32Array(p.value.length));
    this.m2 = model.params.map((p) => new Float32Array(p.value.length));
  }

  apply(): void {
    this.step++;
    const c1 = 1 - 0.9 ** this.step;
    const c2 = 1 - 0.99 ** this.step;
    this.model.params.forEach((p, pi) => {
      const g = p.grad;
      const rows = p.sparse ? g.count : p.rows;
      for (let t = 0; t < rows; t++) {
        const off = (p.sparse ? g.touched[t]! : t) * p.cols;
        for (let f = off; f < off + p.cols; f++) {
          const gf = g.data[f]!;
          this.m1[pi]![f] = 0.9 * this.m1[pi]![f]! + 0.1 * gf;
          this.m2[pi]![f] = 0.99 * this.m2[pi]![f]! + 0.01 * gf * gf;
          p.value[f] -= (this.lr * this.m1[pi]![f]!) / c1 / (Math.sqrt(this.m2[pi]![f]! / c2) + 1e-5);
        }
      }
      g.reset(!p.sparse);
    });
  }
}

function run(s: Shape, seconds: number, batchSize: number, dataDir: string | undefined): void {
  const rng = new RandomState(0);
  const data = dataDir ? readRatingsFile(join(dataDir, s.split)).ratings : synthetic(s, rng);
  const nUsers = dataDir ? data.userIds.size : s.nUsers;
  const nItems = dataDir ? data.itemIds.size : s.nItems;
  const n = data.users.length;
  const model = new EmbeddingNN(nUsers, nItems, { embSizes: s.embSizes, yRange: [0, 5.5] }, 42);
  const order = rng.permutation(n);
  const nBatches = Math.floor(n / batchSize);
  // Untimed warm-up: one epoch of Adam, so the code is optimised and the weights (hence the ReLU
  // on/off pattern the sparse backward skips) look like training rather than init.
  const adam = new WarmupAdam(model, 5e-3);
  for (let t = 0; t < nBatches; t++) {
    model.trainBatch(data, order, t * batchSize, (t + 1) * batchSize);
    adam.apply();
  }
  let samples = 0;
  let batch = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let t = 0; t < 50; t++) {
      const start = (batch++ % nBatches) * batchSize;
      model.trainBatch(data, order, start, start + batchSize);
      for (const p of model.params) p.grad.reset(!p.sparse);
      samples += batchSize;
    }
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = samples / elapsed;
  const perCpu = samples / ((cpu.user + cpu.system) / 1e6);
  console.log(
    `${s.name} (${dataDir ? 'real train split' : 'synthetic'}, ${nUsers} users, ${nItems} items): ` +
      `${s.embSizes[0]}+${s.embSizes[1]} -> 100 -> 1, batch ${batchSize}: ` +
      `${Math.round(wall)} samples/s wall, ${Math.round(perCpu)} samples/s of CPU time ` +
      `(5 epochs of ${n} ≈ ${((5 * n) / wall).toFixed(1)} s wall, kernel only)`,
  );
}

const seconds = Number(process.argv[2] ?? 3);
for (const s of shapes) run(s, seconds, 64, process.env['COLLAB_DATA_DIR']);
