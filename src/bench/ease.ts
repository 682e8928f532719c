/**
 * EASE fit time and quality beside numpy's, on the same split files, in one launch: for each dataset,
 * `collab split DATASET --by-user 0.75 --stratified --seed 42` (Microsoft Recommenders' protocol), then the
 * numpy reference (../shared/bench/ease_ref.py, or $COLLAB_EASE_REF) and collab's fitEase on train.csv,
 * both judged on valid.csv (top 10 among unrated movies, every test movie relevant). Prints fit seconds,
 * collab / numpy, P@10 and nDCG@10 for both.
 * numpy's fit_s covers XᵀX, the inverse, B and the scores of every user; collab's covers XᵀX, the inverse and B
 * (the scores are computed per user during evaluation).
 *
 * usage: npm run bench:ease [-- dataset ...]   (default: ml-100k ml-latest-small; datasets from $COLLAB_DATA_DIR)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../data/load.js';
import { joinSplit } from '../data/split.js';
import { EASE_DEFAULT_LAMBDA, fitEase } from '../models/ease.js';
import { evaluateTopN, implicitProtocol } from '../evaluate/implicit-protocol.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const refScript = process.env.COLLAB_EASE_REF ?? join(repoRoot, '..', 'shared', 'bench', 'ease_ref.py');
const datasets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['ml-100k', 'ml-latest-small'];
const cli = join(repoRoot, 'dist', 'cli', 'main.js');

interface Row {
  fitSeconds: number;
  precision: number;
  ndcg: number;
}

/** numpy's EASE on the split files, or undefined (said loudly) when python3 or the script is missing or fails. */
function numpyEase(train: string, valid: string): Row | undefined {
  if (!existsSync(refScript)) {
    console.log(`SKIPPED numpy: ${refScript} not found; set COLLAB_EASE_REF to ease_ref.py`);
    return undefined;
  }
  // OpenBLAS tuned by these variables runs a slower code path than it picks by itself
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync('python3', [refScript, train, valid, '--lambda', String(EASE_DEFAULT_LAMBDA), '--k', '10'], { env, encoding: 'utf8' });
  if (run.status !== 0) {
    console.log(`SKIPPED numpy: python3 ${refScript} failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return undefined;
  }
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as { fit_s: number; precision: number; ndcg: number };
  return { fitSeconds: r.fit_s, precision: r.precision, ndcg: r.ndcg };
}

/** collab's EASE on the same files. */
function collabEase(train: string, valid: string): Row {
  const split = joinSplit(loadDataset(train).ratings, loadDataset(valid).ratings);
  const t = split.train;
  const t0 = performance.now();
  const model = fitEase(t.users, t.items, t.userIds.size, t.itemIds.size, { lambda: EASE_DEFAULT_LAMBDA });
  const fitSeconds = (performance.now() - t0) / 1000;
  const r = evaluateTopN(implicitProtocol(t, split.valid), (u, k) => model.recommend(u, k).items, 10);
  return { fitSeconds, precision: r.precision, ndcg: r.ndcg };
}

console.log(`EASE (lambda ${EASE_DEFAULT_LAMBDA}), stratified 75/25 per user (seed 42), top 10; node ${process.version}, ${availableParallelism()} cores`);
console.log('dataset           movies  numpy fit s  collab fit s  collab/numpy  numpy P@10  collab P@10  numpy nDCG@10  collab nDCG@10');
const dir = mkdtempSync(join(tmpdir(), 'collab-bench-ease-'));
try {
  for (const name of datasets) {
    const out = join(dir, name.replace(/[^\w.-]/g, '_'));
    const split = spawnSync(process.execPath, [cli, 'split', name, '--by-user', '0.75', '--stratified', '--seed', '42', '--out', out], { encoding: 'utf8' });
    if (split.status !== 0) {
      console.log(`SKIPPED ${name}: collab split failed: ${split.stderr.trim()}`);
      continue;
    }
    const train = join(out, 'train.csv');
    const valid = join(out, 'valid.csv');
    const np = numpyEase(train, valid);
    const co = collabEase(train, valid);
    const movies = loadDataset(train).ratings.itemIds.size;
    const cell = (x: number | undefined, d: number, w: number) => (x === undefined ? '-' : x.toFixed(d)).padStart(w);
    console.log(
      `${name.padEnd(16)} ${String(movies).padStart(7)} ${cell(np?.fitSeconds, 2, 12)} ${cell(co.fitSeconds, 2, 13)} ${cell(np ? co.fitSeconds / np.fitSeconds : undefined, 2, 13)}` +
        ` ${cell(np?.precision, 4, 11)} ${cell(co.precision, 4, 12)} ${cell(np?.ndcg, 4, 14)} ${cell(co.ndcg, 4, 15)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
