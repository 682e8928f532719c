/**
 * New visitors against a real reference: the shared numpy EASE script (visitors_ref.py) holds 20% of the
 * users out, gives 5 ratings of each and keeps the rest to test; collab trains its default model on the
 * script's train.csv (`collab train --data train.csv`) and folds every held-out user in with
 * `collab evaluate --given given.csv --data test.csv`. Both are scored on the same files, nDCG@10 and
 * precision@10, with every test movie relevant (threshold 0) and with relevant = rated >= 4.
 *
 * usage: node dist/bench/visitors.js [dataset-or-ratings.csv=ml-latest-small] [--given 5] [--seed 42]
 * The script is found at ../shared/bench/visitors_ref.py beside the repository, or at $COLLAB_VISITORS_REF.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../data/load.js';
import { locateDataset, resolveDatasetPath } from '../data/locate.js';
import { evaluateVisitors } from '../evaluate/visitors.js';
import { loadRecommender } from '../recommend/load.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const repo = fileURLToPath(new URL('../../', import.meta.url));
const script = process.env.COLLAB_VISITORS_REF ?? resolve(repo, '../shared/bench/visitors_ref.py');
if (!existsSync(script)) {
  process.stderr.write(`SKIPPED: the reference script ${script} is absent; set COLLAB_VISITORS_REF to visitors_ref.py to run this benchmark\n`);
  process.exit(0);
}
const spec = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'ml-latest-small';
const located = locateDataset(spec) ?? resolveDatasetPath(spec);
if (!existsSync(located)) {
  process.stderr.write(`${spec}: no such dataset or file; put ml-latest-small under $COLLAB_DATA_DIR or give a ratings.csv (userId,movieId,rating with a header)\n`);
  process.exit(1);
}
const ratingsFile = statSync(located).isDirectory() ? join(located, 'ratings.csv') : located;
const given = arg('given', 5);
const seed = arg('seed', 42);
const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'collab-visitors-'));

interface Row { threshold: number; model: string; ndcg: number; precision: number; users: number }
const rows: Row[] = [];
try {
  for (const threshold of [0, 4]) {
    // the files depend on the seed only; the script writes them again for each threshold
    const ref = spawnSync('python3', [script, ratingsFile, dir, '--given', String(given), '--threshold', String(threshold), '--seed', String(seed)], { encoding: 'utf8' });
    if (ref.status !== 0) throw new Error(`${script} failed: ${ref.stderr}`);
    const r = JSON.parse(ref.stdout.trim().split('\n').pop()!) as { ndcg10: number; precision10: number; users: number };
    rows.push({ threshold, model: 'numpy EASE (visitors_ref.py)', ndcg: r.ndcg10, precision: r.precision10, users: r.users });
  }
  const model = join(dir, 'model.json');
  const train = spawnSync(process.execPath, [cli, 'train', '--data', join(dir, 'train.csv'), '--out', model], { encoding: 'utf8' });
  if (train.status !== 0) throw new Error(`collab train failed: ${train.stderr}`);
  const givenRatings = loadDataset(join(dir, 'given.csv')).ratings;
  const testRatings = loadDataset(join(dir, 'test.csv')).ratings;
  const variants = [
    { model: 'collab default (co-watch term)', options: {} },
    { model: 'collab default, global popularity', options: { coWatch: false } },
  ];
  for (const threshold of [0, 4]) {
    for (const v of variants) {
      const rec = loadRecommender(model, v.options);
      const rk = evaluateVisitors(rec, givenRatings, testRatings, { k: 10, threshold }).ranking;
      rows.push({ threshold, model: `${v.model}, ${rec.info.kind}`, ndcg: rk.ndcg, precision: rk.precision, users: rk.users });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`new visitors on ${spec}: 20% of users held out, ${given} ratings given, seed ${seed}`);
for (const threshold of [0, 4]) {
  const ref = rows.find((r) => r.threshold === threshold)!;
  console.log(`\nrelevant: ${threshold === 0 ? 'every test movie (threshold 0)' : `rated >= ${threshold}`}`);
  console.log('| model | nDCG@10 | P@10 | vs EASE | users |');
  console.log('|---|---|---|---|---|');
  for (const r of rows.filter((x) => x.threshold === threshold)) {
    console.log(`| ${r.model} | ${r.ndcg.toFixed(3)} | ${r.precision.toFixed(3)} | ${(r.ndcg / ref.ndcg).toFixed(2)}x | ${r.users} |`);
  }
}
console.log(JSON.stringify({ dataset: spec, given, seed, rows }));
