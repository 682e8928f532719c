/**
 * Fold-in quality (issue 4): hold 100 users out of training entirely, give the trained model 10 ratings
 * of each (fold-in, no retraining) and predict the rest. Compared with the bias baseline for the same
 * users (item biases from training plus a user bias from the same 10 ratings) and, for ranking, with
 * popularity. Prints one table and a JSON line.
 *
 * usage: node dist/bench/fold-in-quality.js [dataset-or-file=ml-latest-small] [--users 100] [--given 10] [--seed 42] [--co-watch 0]
 */
import { performance } from 'node:perf_hooks';
import { RandomState } from '../core/random.js';
import { loadDataset } from '../data/load.js';
import { selectRows } from '../data/ratings.js';
import { fitBiasBaseline, popularityScores } from '../models/baselines.js';
import { precisionAtK, ndcgAtK } from '../evaluate/ranking-metrics.js';
import type { TrainedModel } from '../io/trained-model.js';
import { ModelRecommender } from '../recommend/recommender.js';
import { topKForUser } from '../maths/top-k.js';
import { collabLearner } from '../train/learner.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const spec = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'ml-latest-small';
const nHeld = arg('users', 100);
const nGiven = arg('given', 10);
const seed = arg('seed', 42);
const K = 10;

const data = loadDataset(spec).ratings;
const nUsers = data.userIds.size;
const counts = new Int32Array(nUsers);
for (let r = 0; r < data.ratings.length; r++) counts[data.users[r]!]!++;
// Held-out users: a seeded draw among users with at least given + 10 ratings, so each has a test part.
const eligible = Array.from(counts.keys()).filter((u) => counts[u]! >= nGiven + 10);
const rng = new RandomState(seed);
const perm = rng.permutation(eligible.length);
const held = new Set(Array.from(perm.subarray(0, nHeld), (t) => eligible[t]!));

const trainRows: number[] = [];
const heldRows = new Map<number, number[]>();
for (let r = 0; r < data.ratings.length; r++) {
  const u = data.users[r]!;
  if (held.has(u)) (heldRows.get(u) ?? heldRows.set(u, []).get(u)!).push(r);
  else trainRows.push(r);
}
const train = selectRows(data, Int32Array.from(trainRows));
const learner = collabLearner(train, undefined, {});
const t0 = performance.now();
await learner.fitDefault();
const trainSeconds = (performance.now() - t0) / 1000;
const state = learner.exportState();
const trained: TrainedModel = { model: learner.model, train, items: new Map(), history: { epochs: [] } };
const recommender = new ModelRecommender(trained, { minRatings: 0, foldInLambda: arg('lambda', 10), foldInBiasLambda: arg('bias-lambda', 5), popularityWeight: arg('pop', 0.5), coWatch: arg('co-watch', 1) !== 0 });
const baseline = fitBiasBaseline(train, nUsers, data.itemIds.size);
const popularity = popularityScores(train.items, data.itemIds.size);

let seFold = 0;
let seBias = 0;
let seMean = 0;
let nTest = 0;
let precFold = 0;
let precPop = 0;
let ndcgFold = 0;
let ndcgPop = 0;
let rankedUsers = 0;
let foldMs = 0;
const scores = new Float32Array(data.itemIds.size);
for (const [u, rows] of heldRows) {
  const order = rng.permutation(rows.length);
  const given = Array.from(order.subarray(0, nGiven), (t) => rows[t]!);
  const test = Array.from(order.subarray(nGiven), (t) => rows[t]!);
  const givenRatings = given.map((r) => ({ itemId: data.itemIds.idOf(data.items[r]!), rating: data.ratings[r]! }));
  // Fold-in: time the fit plus the scoring of every movie for this user.
  const f0 = performance.now();
  const recs = recommender.recommendForRatings(givenRatings, { n: K, minRatings: arg('min-ratings', 0) });
  foldMs += performance.now() - f0;
  const predicted = recommender.predictForRatings(givenRatings);
  // Bias baseline for a new user: b_u = Σ(r - mu - b_i) / (reg + n) over the given ratings.
  let dev = 0;
  for (const r of given) dev += data.ratings[r]! - baseline.mu - baseline.itemBias[data.items[r]!]!;
  const bu = dev / (15 + given.length);
  const relevant = new Set<number>();
  for (const r of test) {
    const i = data.items[r]!;
    const y = data.ratings[r]!;
    const ef = predicted[i]! - y;
    const eb = baseline.mu + bu + baseline.itemBias[i]! - y;
    const em = baseline.mu - y;
    seFold += ef * ef;
    seBias += eb * eb;
    seMean += em * em;
    nTest++;
    if (y >= 4) relevant.add(i);
  }
  if (relevant.size > 0) {
    const recIdx = recs.map((s) => data.itemIds.indexOf(s.itemId));
    scores.set(popularity);
    const givenItems = Int32Array.from(given.map((r) => data.items[r]!)).sort();
    const pop = topKForUser(scores, K, givenItems).items;
    precFold += precisionAtK(recIdx, relevant, K);
    precPop += precisionAtK(pop, relevant, K);
    ndcgFold += ndcgAtK(recIdx, relevant, K);
    ndcgPop += ndcgAtK(pop, relevant, K);
    rankedUsers++;
  }
}
const row = (name: string, rmse: number, p: number, nd: number) =>
  `| ${name.padEnd(34)} | ${Number.isNaN(rmse) ? '  -   ' : rmse.toFixed(4)} | ${Number.isNaN(p) ? '  -   ' : p.toFixed(4)} | ${Number.isNaN(nd) ? '  -   ' : nd.toFixed(4)} |`;
console.log(`fold-in quality on ${spec}: ${heldRows.size} users held out of training, ${nGiven} ratings given each, ${nTest} test ratings; model ${state.kind} trained in ${trainSeconds.toFixed(2)} s`);
console.log('| method                             | RMSE   | P@10   | nDCG@10 |');
console.log('|------------------------------------|--------|--------|---------|');
console.log(row(`fold-in (${state.kind}, ${nGiven} ratings)`, Math.sqrt(seFold / nTest), precFold / rankedUsers, ndcgFold / rankedUsers));
console.log(row('bias baseline (mu + b_u + b_i)', Math.sqrt(seBias / nTest), NaN, NaN));
console.log(row('global mean', Math.sqrt(seMean / nTest), NaN, NaN));
console.log(row('popularity', NaN, precPop / rankedUsers, ndcgPop / rankedUsers));
console.log(`time per fold-in (fit + score all ${data.itemIds.size} movies + top-10): ${(foldMs / heldRows.size).toFixed(3)} ms`);
console.log(
  JSON.stringify({
    users: heldRows.size,
    given: nGiven,
    testRatings: nTest,
    foldInRmse: Math.sqrt(seFold / nTest),
    biasBaselineRmse: Math.sqrt(seBias / nTest),
    globalMeanRmse: Math.sqrt(seMean / nTest),
    foldInPrecision10: precFold / rankedUsers,
    popularityPrecision10: precPop / rankedUsers,
    foldInNdcg10: ndcgFold / rankedUsers,
    popularityNdcg10: ndcgPop / rankedUsers,
    msPerFoldIn: foldMs / heldRows.size,
  }),
);
