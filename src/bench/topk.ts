/**
 * Benchmark of top-10 for every user of ml-latest-small (610 users × 9,724 movies) on a 50-factor dotbias
 * model trained here (the dotbias recipe of `collab train`, seed 42, one thread, every rating), ranked as
 * `collab recommend` ranks (movies with at least 5 training ratings, seen movies left out, popularity
 * blend 0.5). In one run, each round times every path once, side by side, and each path keeps its best
 * round; users/s and the ratio to the per-user path are printed for:
 *   - the per-user path: ModelRecommender.recommendForUser for each user (every movie scored);
 *   - topKAllUsers: blocked products and selection only (no filters, no blend, no result rows), for reference;
 *   - the block path: ModelRecommender.recommendAllUsers (PrunedTopN), lists built, with the default filters
 *     and with --min-ratings 0 (every movie a candidate);
 *   - `collab recommend --all --out` as it runs: writeAllRecommendations on the loaded model, the CSV written
 *     atomically (temp file, fsync, rename) in the OS temp folder; and with a second thread (a worker that
 *     loads the model file again);
 *   - the command itself, spawned: its own users/s (model loaded, CSV written) and its wall time (node start
 *     and model load included).
 * Also: how many movies per user the bound let through to the products, and a bare worker thread's start-up.
 * Run: `npm run build && COLLAB_DATA_DIR=<folder holding ml-latest-small> npm run bench:topk [rounds]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadDataset } from '../data/load.js';
import { userItemsCsr } from '../data/user-items.js';
import { saveTrainedModel } from '../io/trained-model.js';
import { TopKHeap, topKAllUsers } from '../maths/top-k.js';
import { seenItemsOf } from '../data/seen.js';
import { writeAllRecommendations } from '../recommend/all-users.js';
import { loadRecommender } from '../recommend/load.js';
import { PrunedTopN } from '../recommend/pruned-top-n.js';
import { ModelRecommender } from '../recommend/recommender.js';
import { collabLearner } from '../train/learner.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';

const rounds = Number(process.argv[2] ?? 7);
const k = 10;
const dataset = loadDataset('ml-latest-small');
const train = dataset.ratings;
const nUsers = train.userIds.size;
const nItems = train.itemIds.size;
const recipe = TRAIN_DEFAULTS.dotbias;

const dir = mkdtempSync(join(tmpdir(), 'collab-bench-topk-'));
try {
  const t0 = performance.now();
  const learner = collabLearner(train, undefined, { model: 'dotbias', nFactors: recipe.nFactors, seed: 42, threads: 1 });
  await learner.fitOneCycle(recipe.epochs, recipe.lr);
  const modelPath = join(dir, 'model.json');
  saveTrainedModel(modelPath, { model: learner.model, train, items: dataset.items, history: { epochs: learner.history } });
  const trainSeconds = (performance.now() - t0) / 1000;
  const loadStart = performance.now();
  const rec = loadRecommender(modelPath);
  const loadMs = performance.now() - loadStart;
  if (!(rec instanceof ModelRecommender)) throw new Error('the bench model should load as a ModelRecommender');
  const scoring = learner.model.factorScoring!();
  const exclude = userItemsCsr(train.users, train.items, nUsers);
  const userIds = train.userIds.ids();
  const out = join(dir, 'recs.csv');

  const paths: { label: string; run: () => unknown; best: number }[] = [
    {
      label: 'per-user path: recommendForUser for each user',
      run: () => {
        for (const id of userIds) rec.recommendForUser(id, { n: k });
      },
      best: Infinity,
    },
    {
      label: 'topKAllUsers (products + selection only, no filters or blend)',
      run: () => topKAllUsers(scoring.P, scoring.Q, k, scoring.bu, scoring.bi, exclude, { nFactors: scoring.k, yRange: scoring.yRange! }),
      best: Infinity,
    },
    { label: 'block path: recommendAllUsers (PrunedTopN), lists built', run: () => rec.recommendAllUsers({ n: k }, () => {}), best: Infinity },
    { label: 'block path, --min-ratings 0 (all 9,724 movies candidates)', run: () => rec.recommendAllUsers({ n: k, minRatings: 0 }, () => {}), best: Infinity },
    { label: 'recommend --all --out: writeAllRecommendations, CSV written', run: () => writeAllRecommendations(rec, out, { n: k }), best: Infinity },
    {
      label: 'recommend --all --out, two threads (the worker loads the model file)',
      run: () => writeAllRecommendations(rec, out, { n: k }, { modelPath, threads: 2 }),
      best: Infinity,
    },
  ];
  const cli = { best: Infinity, reported: 0, wall: Infinity };
  const worker = { best: Infinity };
  const load0 = loadavg()[0]!;
  for (let round = 0; round <= rounds; round++) {
    for (const path of paths) {
      const start = performance.now();
      await path.run();
      // round 0 warms the JIT up
      if (round > 0) path.best = Math.min(path.best, performance.now() - start);
    }
    const wallStart = performance.now();
    const run = spawnSync(process.execPath, [new URL('../cli/main.js', import.meta.url).pathname, 'recommend', '--model', modelPath, '--all', '--out', out, '-n', String(k), '--json'], { encoding: 'utf8' });
    const wall = performance.now() - wallStart;
    if (run.status !== 0) throw new Error(`collab recommend --all failed: ${run.stderr}`);
    const reported = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { seconds: number; users: number };
    if (reported.seconds * 1000 < cli.best) cli.best = reported.seconds * 1000;
    cli.wall = Math.min(cli.wall, wall);
    worker.best = Math.min(worker.best, await workerStartup());
  }

  const perUser = paths[0]!.best;
  console.log(`top-${k} for all ${nUsers} users of ml-latest-small (${nItems} movies), dotbias ${scoring.k} factors (trained in ${trainSeconds.toFixed(1)} s), node ${process.version}, ${availableParallelism()} cores, load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end; best of ${rounds} rounds`);
  for (const path of paths) console.log(line(path.label, path.best, perUser));
  console.log(line('collab recommend --all --out, as the command reports it (model loaded, CSV written)', cli.best, perUser));
  console.log(`collab recommend --all --out, wall time of the whole command (node start, model load ${loadMs.toFixed(0)} ms here, lists, CSV): ${cli.wall.toFixed(0)} ms`);

  // how much the bound prunes: movies whose dot product was computed, per user
  const counts = new Int32Array(nItems);
  for (let r = 0; r < train.items.length; r++) counts[train.items[r]!]!++;
  const popularity = Float32Array.from(counts, (c) => Math.log1p(c));
  for (const minRatings of [5, 0]) {
    const candidates = Int32Array.from(Array.from(counts.keys()).filter((i) => counts[i]! >= minRatings));
    const topN = new PrunedTopN(scoring, candidates, popularity, 0.5);
    const heap = new TopKHeap(k);
    for (let u = 0; u < nUsers; u++) {
      topN.select(u, seenItemsOf(exclude, u), heap);
      heap.take();
    }
    console.log(`movies scored per user (minRatings ${minRatings}): ${(topN.scoredItems / nUsers).toFixed(0)} of ${candidates.length} candidates`);
  }
  console.log(`a worker thread's start-up (new thread, trivial module, first message back): ${worker.best.toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function line(label: string, ms: number, perUser: number): string {
  return `${label}: ${ms.toFixed(1)} ms = ${Math.round((nUsers / ms) * 1000).toLocaleString('en-US')} users/s (${(perUser / ms).toFixed(1)}× the per-user path)`;
}

/** Milliseconds from starting a worker thread to its first message. */
function workerStartup(): Promise<number> {
  const start = performance.now();
  const w = new Worker('require("node:worker_threads").parentPort.postMessage(1)', { eval: true });
  return new Promise((resolve, reject) => {
    w.once('message', () => {
      resolve(performance.now() - start);
      void w.terminate();
    });
    w.once('error', reject);
  });
}
