/**
 * iALS beside EASE, in one launch: top-N quality on the Microsoft Recommenders protocol (ml-100k, per-user
 * stratified 75/25, seed 42, every test movie relevant) and on ml-latest-small, then training speed on a
 * generated 20 M-rating set at 64 factors, printed beside the `implicit` library's published CPU figure.
 *
 * usage: node dist/bench/ials.js [--seed 42] [--rows 20000000] [--big-iterations 3] [--skip-big] [--skip-small] [--tune]
 *   --tune also prints the iALS sweep on an inner stratified split of ml-100k's TRAINING part (how the
 *   defaults were chosen; the test part is never looked at).
 */
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { loadDataset } from '../data/load.js';
import type { Ratings } from '../data/ratings.js';
import { stratifiedSplit } from '../data/split.js';
import { syntheticRatings } from '../data/synthetic.js';
import { EASE_DEFAULT_LAMBDA, fitEase } from '../models/ease.js';
import { fitIals, IALS_DEFAULTS, type IalsOptions } from '../models/ials.js';
import { evaluateTopN, implicitProtocol, type TopNReport } from '../evaluate/implicit-protocol.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const seed = arg('seed', 42);
const K = 10;
const f = (x: number): string => (Number.isNaN(x) ? '    -' : x.toFixed(3));

interface Row {
  data: string;
  model: string;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  seconds: number;
  note?: string;
}
const rows: Row[] = [];
const row = (data: string, model: string, r: TopNReport, seconds: number): Row => ({ data, model, precision: r.precision, recall: r.recall, ndcg: r.ndcg, map: r.mapRecommenders, seconds });

/** EASE and iALS on one dataset's stratified split; EASE may not fit a large catalogue, which is reported. */
async function compare(name: string, options: IalsOptions = {}): Promise<{ train: Ratings }> {
  const data = loadDataset(name).ratings;
  const { train, valid: test } = stratifiedSplit(data, { ratio: 0.75, seed });
  const protocol = implicitProtocol(train, test);
  const nU = data.userIds.size;
  const nI = data.itemIds.size;
  try {
    const t0 = performance.now();
    const ease = fitEase(train.users, train.items, nU, nI, { lambda: EASE_DEFAULT_LAMBDA });
    const s = (performance.now() - t0) / 1000;
    rows.push(row(name, `EASE λ ${EASE_DEFAULT_LAMBDA}`, evaluateTopN(protocol, (u, k) => ease.recommend(u, k).items, K), s));
  } catch (e) {
    rows.push({ data: name, model: `EASE λ ${EASE_DEFAULT_LAMBDA}`, precision: NaN, recall: NaN, ndcg: NaN, map: NaN, seconds: NaN, note: (e as Error).message.split(';')[0] });
  }
  const t1 = performance.now();
  const ials = await fitIals(train.users, train.items, nU, nI, options);
  const s = (performance.now() - t1) / 1000;
  rows.push(row(name, `iALS k ${ials.nFactors}`, evaluateTopN(protocol, (u, k) => ials.recommend(u, k).items, K), s));
  return { train };
}

const small = !process.argv.includes('--skip-small');
const { train: ml100kTrain } = small ? await compare('ml-100k') : { train: undefined };
if (small) {
  rows.push({ data: 'ml-100k', model: 'BiVAE (published)', precision: 0.408, recall: NaN, ndcg: 0.469, map: NaN, seconds: NaN });
  rows.push({ data: 'ml-100k', model: 'BPR (published)', precision: 0.389, recall: NaN, ndcg: 0.445, map: NaN, seconds: NaN });
}

if (ml100kTrain && process.argv.includes('--tune')) {
  // only the ratio (1 + alpha) / unobservedWeight and reg matter when regExponent is 1 (scaling both weights scales the loss)
  const inner = stratifiedSplit(ml100kTrain, { ratio: 0.75, seed: seed + 1 });
  const p = implicitProtocol(inner.train, inner.valid);
  for (const [alpha, unobservedWeight, reg] of [
    [1, 0.1, 0.01],
    [0.5, 0.5, 0.005],
    [0.5, 0.5, 0.02],
    [0.5, 0.5, 0.05],
    [0.5, 0.25, 0.03],
    [1, 0.5, 0.03],
  ] as const) {
    const m = await fitIals(inner.train.users, inner.train.items, ml100kTrain.userIds.size, ml100kTrain.itemIds.size, { alpha, unobservedWeight, reg, iterations: 12 });
    const r = evaluateTopN(p, (u, k) => m.recommend(u, k).items, K);
    console.log(`inner split  alpha ${alpha}  unobservedWeight ${unobservedWeight}  reg ${reg}  P@10 ${r.precision.toFixed(4)}  nDCG@10 ${r.ndcg.toFixed(4)}`);
  }
}

if (small) await compare('ml-latest-small');

if (small) console.log(`top-N, stratified 75/25 per user (seed ${seed}), iALS defaults ${JSON.stringify(IALS_DEFAULTS)}`);
if (small) console.log('data              model                P@10   R@10  nDCG@10  MAP*   train s');
for (const r of rows) {
  console.log(`${r.data.padEnd(18)}${r.model.padEnd(21)}${f(r.precision)}  ${f(r.recall)}  ${f(r.ndcg)}   ${f(r.map)}  ${Number.isNaN(r.seconds) ? '-' : r.seconds.toFixed(2)}${r.note ? `  (${r.note})` : ''}`);
}
if (small) console.log("MAP*: Microsoft Recommenders' map_at_k (sum of precision at hits / all relevant items)");

let big: { rows: number; users: number; items: number; threads: number; secondsPerIteration: number[] } | undefined;
if (!process.argv.includes('--skip-big')) {
  const n = arg('rows', 20_000_000);
  const iterations = arg('big-iterations', 3);
  const { ratings } = syntheticRatings({ rows: n, seed });
  const threads = Math.min(2, availableParallelism());
  const stamps: number[] = [performance.now()];
  await fitIals(ratings.users, ratings.items, ratings.userIds.size, ratings.itemIds.size, { factors: 64, iterations, threads, onIteration: () => stamps.push(performance.now()) });
  // the first interval also holds the setup (both CSRs, the initial factors, the worker's start)
  const secondsPerIteration = stamps.slice(1).map((t, j) => (t - stamps[j]!) / 1000);
  big = { rows: n, users: ratings.userIds.size, items: ratings.itemIds.size, threads, secondsPerIteration };
  const later = secondsPerIteration.length > 1 ? secondsPerIteration.slice(1) : secondsPerIteration;
  const mean = later.reduce((a, b) => a + b, 0) / later.length;
  console.log(`\n${n} generated ratings (${big.users} users × ${big.items} items), 64 factors, ${IALS_DEFAULTS.cgSteps} CG steps, ${threads} threads`);
  console.log('model                              s / iteration  cores');
  console.log(`iALS (collab, measured)            ${mean.toFixed(2).padStart(13)}  ${threads}   (mean after the first; per iteration: ${secondsPerIteration.map((s) => s.toFixed(2)).join(', ')}, the first with the setup)`);
  console.log(`implicit ALS CPU (published, ML-20M) ${'2.75'.padStart(11)}  8`);
}
console.log(JSON.stringify({ seed, k: K, rows, big }));
