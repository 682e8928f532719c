import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRatingsFile } from './read-delimited.js';
import { datasetStats } from './stats.js';
import { syntheticRatings, writeSyntheticRatings } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'collab-synth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes a MovieLens-shaped CSV with exactly `rows` distinct (user, item) ratings', () => {
  const path = join(dir, 'a.csv');
  const s = writeSyntheticRatings(path, { rows: 20000, users: 100, items: 800, seed: 1 });
  assert.deepEqual([s.rows, s.users, s.items], [20000, 100, 800]);
  const text = readFileSync(path, 'utf8');
  assert.equal(s.bytes, Buffer.byteLength(text));
  assert.ok(text.startsWith('userId,movieId,rating,timestamp\n'));
  assert.match(text.split('\n')[1]!, /^1,\d+,\d\.[05],\d{9,10}$/);
  // 'error' would throw on a repeated pair; the reader sees every row.
  const d = readRatingsFile(path, { duplicates: 'error', scale: [0.5, 5] });
  assert.equal(d.ratings.ratings.length, 20000);
  assert.ok(d.ratings.userIds.size <= 100 && d.ratings.itemIds.size <= 800);
  // Temp files are renamed away, never left behind.
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('long tails: heavy users and blockbuster items far above the median', () => {
  const path = join(dir, 'tail.csv');
  writeSyntheticRatings(path, { rows: 50000, users: 300, items: 2000, seed: 3 });
  const s = datasetStats(readRatingsFile(path));
  assert.ok(s.ratingsPerUser.min >= 20, `min ${s.ratingsPerUser.min}`);
  assert.ok(s.ratingsPerUser.max > 5 * s.ratingsPerUser.median, JSON.stringify(s.ratingsPerUser));
  assert.ok(s.ratingsPerItem.max > 10 * s.ratingsPerItem.median, JSON.stringify(s.ratingsPerItem));
});

test('the same seed gives the same bytes; another seed does not', () => {
  const a = join(dir, 's1.csv');
  const b = join(dir, 's2.csv');
  const c = join(dir, 's3.csv');
  writeSyntheticRatings(a, { rows: 3000, seed: 7 });
  writeSyntheticRatings(b, { rows: 3000, seed: 7 });
  writeSyntheticRatings(c, { rows: 3000, seed: 8 });
  assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'));
  assert.notEqual(readFileSync(a, 'utf8'), readFileSync(c, 'utf8'));
});

test('scale: half stars in 0.5-5, whole stars in 1-5', () => {
  const half = datasetStats(readRatingsFile(writeSyntheticRatings(join(dir, 'h.csv'), { rows: 5000, scale: 'half' }).path));
  assert.ok(half.histogram.some((b) => b.from === 3.5));
  assert.ok(half.scale.min >= 0.5 && half.scale.max <= 5);
  const whole = datasetStats(readRatingsFile(writeSyntheticRatings(join(dir, 'w.csv'), { rows: 5000, scale: 'whole' }).path));
  assert.deepEqual(whole.histogram.map((b) => b.from), [1, 2, 3, 4, 5]);
});

test('noise widens the spread of ratings around the low-rank structure', () => {
  const std = (noise: number): number => datasetStats(readRatingsFile(writeSyntheticRatings(join(dir, `n${noise}.csv`), { rows: 20000, noise, seed: 5 }).path)).std;
  assert.ok(std(0) + 0.2 < std(1.5), `${std(0)} vs ${std(1.5)}`);
});

test('the latent structure is real: a user\'s ratings of an item agree with the model far better than chance', () => {
  // With noise 0, two halves of the same users' ratings share user biases: per-user means of the
  // odd and even rows correlate strongly. Pure noise would give a correlation near 0.
  const d = readRatingsFile(writeSyntheticRatings(join(dir, 'lr.csv'), { rows: 40000, users: 200, items: 1000, noise: 0, seed: 11 }).path);
  const n = d.ratings.userIds.size;
  const sums = [new Float64Array(n), new Float64Array(n)];
  const counts = [new Float64Array(n), new Float64Array(n)];
  for (let r = 0; r < d.ratings.ratings.length; r++) {
    const half = r % 2;
    sums[half]![d.ratings.users[r]!]! += d.ratings.ratings[r]!;
    counts[half]![d.ratings.users[r]!]!++;
  }
  const a = Array.from(sums[0]!, (s, u) => s / counts[0]![u]!);
  const b = Array.from(sums[1]!, (s, u) => s / counts[1]![u]!);
  const mean = (x: number[]): number => x.reduce((p, q) => p + q, 0) / x.length;
  const ma = mean(a);
  const mb = mean(b);
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let u = 0; u < n; u++) {
    cov += (a[u]! - ma) * (b[u]! - mb);
    va += (a[u]! - ma) ** 2;
    vb += (b[u]! - mb) ** 2;
  }
  assert.ok(cov / Math.sqrt(va * vb) > 0.8, `correlation ${cov / Math.sqrt(va * vb)}`);
});

test('options are checked with messages that name them', () => {
  assert.throws(() => writeSyntheticRatings(join(dir, 'x.csv'), { rows: 100, users: 2, items: 10 }), {
    message: 'rows 100 is more than users × items = 20 (a user rates an item at most once); raise --users or --items',
  });
  assert.throws(() => writeSyntheticRatings(join(dir, 'x.csv'), { rows: 0 }), { message: 'rows must be an integer >= 1, got 0' });
  assert.throws(() => writeSyntheticRatings(join(dir, 'x.csv'), { rows: 10, noise: -1 }), { message: 'noise must be a number from 0 to 10, got -1' });
});

test('syntheticRatings gives the file\'s rows in memory, with the true model behind them', () => {
  const options = { rows: 4000, users: 40, items: 300, factors: 3, noise: 0, seed: 9 };
  const file = readRatingsFile(writeSyntheticRatings(join(dir, 'mem.csv'), options).path);
  const { ratings, truth } = syntheticRatings(options);
  assert.equal(ratings.ratings.length, 4000);
  for (let r = 0; r < 4000; r++) {
    assert.equal(ratings.userIds.idOf(ratings.users[r]!), file.ratings.userIds.idOf(file.ratings.users[r]!));
    assert.equal(ratings.itemIds.idOf(ratings.items[r]!), file.ratings.itemIds.idOf(file.ratings.items[r]!));
    assert.equal(ratings.ratings[r], file.ratings.ratings[r]);
    assert.equal(ratings.timestamps![r], file.ratings.timestamps![r]);
  }
  // With noise 0 every rating is the model's prediction rounded to a half star and clipped.
  const k = truth.factors;
  for (let r = 0; r < 4000; r++) {
    const u = ratings.users[r]!;
    const i = ratings.items[r]!;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += truth.userFactors[u * k + f]! * truth.itemFactors[i * k + f]!;
    const pred = truth.mu + truth.userBias[u]! + truth.itemBias[i]! + dot;
    assert.equal(ratings.ratings[r], Math.min(5, Math.max(0.5, Math.round(pred * 2) / 2)));
  }
});
