// Scale benchmark: 10M and 25M generated ratings (80/20 split, seed 42), LIBMF against collab mf and dotbias,
// every run a child process launched from this one (each collab run is `collab train ... --json`, whose last
// line carries its peak RSS).
//
//   [LIBMF_DIR=<folder with node_modules/libmf and libmf_peer.mjs>] [COLLAB_BENCH_DATA=<cache folder>]
//   node dist/bench/scale.js [10m] [25m] [--dotbias-epochs N] [--no-dotbias]
//
// The generated files are cached in COLLAB_BENCH_DATA (default a folder in the OS temp dir): s<size>/train.csv
// and s<size>/valid.csv, made by writeSyntheticRatings (what `collab data generate --rows N` writes) and
// `collab split` (80/20, seed 42). Without LIBMF_DIR the LIBMF column says SKIPPED and collab mf runs its
// default recipe alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticRatings } from '../data/synthetic.js';
import type { EpochStats } from '../train/learner.js';

const SIZES: Record<string, number> = { '10m': 10_000_000, '25m': 25_000_000 };
/**
 * collab mf's race against LIBMF: LIBMF's own lambda (0.05) as the per-rating reg, one-cycle to lr 0.07 over
 * 8 epochs. The default recipe (reg 0.08, tuned on MovieLens) runs too, for what `collab train --model mf` gives.
 */
const RACE = { epochs: 8, lr: 0.07, wd: 0.05 };
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** Prints a child's peak RSS (MB) on stderr as it exits, for the peer, whose own output does not carry it. */
const PEAK_RSS_HOOK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("peakRssMb="+Math.round(process.resourceUsage().maxRSS/1024)+"\\n"))';

interface TrainJson {
  nTrain: number;
  options: { threads: number; wd: number };
  validMse: number;
  trainSeconds: number;
  history: EpochStats[];
  peakRssMb: number;
}

interface PeerRun {
  valid_mse: number;
  train_s: number;
  peakRssMb: number;
}

function parseArgs(argv: string[]): { sizes: string[]; dotbiasEpochs: number } {
  const sizes: string[] = [];
  let dotbiasEpochs = 5;
  for (let j = 0; j < argv.length; j++) {
    const a = argv[j]!;
    if (a === '--dotbias-epochs') dotbiasEpochs = Number(argv[++j]);
    else if (a === '--no-dotbias') dotbiasEpochs = 0;
    else if (SIZES[a] !== undefined) sizes.push(a);
    else throw new Error(`unknown argument ${a}: give sizes (${Object.keys(SIZES).join(', ')}), --dotbias-epochs N or --no-dotbias`);
  }
  if (!Number.isInteger(dotbiasEpochs) || dotbiasEpochs < 0) throw new Error('--dotbias-epochs must be an integer >= 0');
  return { sizes: sizes.length > 0 ? sizes : Object.keys(SIZES), dotbiasEpochs };
}

/** The cached split of `size`, generated and split on first use. */
function ensureData(root: string, size: string): { train: string; valid: string } {
  const dir = join(root, `s${size}`);
  const train = join(dir, 'train.csv');
  const valid = join(dir, 'valid.csv');
  if (existsSync(train) && existsSync(valid)) return { train, valid };
  mkdirSync(dir, { recursive: true });
  const all = join(dir, 'ratings.csv');
  const made = writeSyntheticRatings(all, { rows: SIZES[size]!, seed: 42 });
  console.error(`generated ${made.rows} ratings in ${made.seconds.toFixed(1)} s; splitting 80/20 (seed 42)`);
  execFileSync('node', [CLI, 'split', all, '--out', dir, '--valid-pct', '0.2', '--seed', '42'], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(all);
  return { train, valid };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1]!;
}

function runLibmf(dir: string, train: string, valid: string): PeerRun {
  const r = spawnSync('node', ['--import', PEAK_RSS_HOOK, 'libmf_peer.mjs', train, valid, '50', '20', '2', '0.05'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`the LIBMF peer failed (exit ${r.status}): ${r.stderr}`);
  const rss = /peakRssMb=(\d+)/.exec(r.stderr);
  return { ...(JSON.parse(lastLine(r.stdout)) as Omit<PeerRun, 'peakRssMb'>), peakRssMb: rss ? Number(rss[1]) : NaN };
}

function runCollab(args: string[]): TrainJson {
  const out = execFileSync('node', [CLI, 'train', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(lastLine(out)) as TrainJson;
}

function table(head: string[], rows: string[][]): void {
  console.log('| ' + head.join(' | ') + ' |');
  console.log('|' + head.map(() => '---').join('|') + '|');
  for (const r of rows) console.log('| ' + r.join(' | ') + ' |');
  console.log('');
}

const { sizes, dotbiasEpochs } = parseArgs(process.argv.slice(2));
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const dataRoot = process.env.COLLAB_BENCH_DATA ?? join(tmpdir(), 'collab-bench-data');
const libmfDir = process.env.LIBMF_DIR;
const haveLibmf = libmfDir !== undefined && existsSync(join(libmfDir, 'libmf_peer.mjs'));
if (!haveLibmf) {
  console.error('\n*** LIBMF SKIPPED: set LIBMF_DIR to a folder with `npm install libmf@0.2.0` and libmf_peer.mjs ***\n');
}
const mfRows: string[][] = [];
const dotRows: string[][] = [];
for (const size of sizes) {
  const { train, valid } = ensureData(dataRoot, size);
  const peer = haveLibmf ? runLibmf(libmfDir!, train, valid) : undefined;
  const race = ['--epochs', String(RACE.epochs), '--lr', String(RACE.lr), '--wd', String(RACE.wd)];
  for (const [recipe, extra] of [[`race (reg ${RACE.wd}, lr ${RACE.lr}, ${RACE.epochs} epochs)`, race], ['default', []]] as const) {
    const mf = runCollab(['--data', train, '--valid', valid, '--model', 'mf', '--threads', '2', ...extra]);
    const hit = peer ? mf.history.find((h) => h.validMse <= peer.valid_mse) : mf.history[mf.history.length - 1];
    mfRows.push([
      size,
      peer ? peer.valid_mse.toFixed(4) : 'SKIPPED',
      peer ? peer.train_s.toFixed(1) : '-',
      peer ? String(peer.peakRssMb) : '-',
      recipe,
      hit ? `${hit.epoch + 1} of ${mf.history.length}` : `not in ${mf.history.length}`,
      hit ? hit.elapsed.toFixed(1) : '-',
      peer && hit ? (hit.elapsed / peer.train_s).toFixed(2) : '-',
      mf.validMse.toFixed(4),
      mf.trainSeconds.toFixed(1),
      String(mf.peakRssMb),
    ]);
  }
  if (dotbiasEpochs > 0) {
    // one thread; two threads splitting each batch (the default at these sizes, the one-thread model bit for
    // bit); the opt-in blocked order on two threads; then both two-thread orders with --wd auto, the wd scaled
    // to the size (at the default wd, the rows the blocked order leaves idle for long decay too much)
    const setups: [string, string[]][] = [
      ['1 thread', ['--threads', '1']],
      ['2 threads, split batches (default)', []],
      ['2 threads, --blocks auto', ['--threads', '2', '--blocks', 'auto']],
      ['2 threads, split batches, --wd auto', ['--wd', 'auto']],
      ['2 threads, --blocks auto --wd auto', ['--threads', '2', '--blocks', 'auto', '--wd', 'auto']],
    ];
    for (const [setup, extra] of setups) {
      const dot = runCollab(['--data', train, '--valid', valid, '--model', 'dotbias', '--bs', '64', '--epochs', String(dotbiasEpochs), ...extra]);
      const perEpoch = dot.history.map((h, j) => dot.nTrain / (h.elapsed - (j > 0 ? dot.history[j - 1]!.elapsed : 0)));
      dotRows.push([
        size,
        setup.includes('--wd auto') ? `${setup} (${dot.options.wd})` : setup,
        String(dot.options.threads),
        String(dotbiasEpochs),
        perEpoch.map((r) => (r / 1e6).toFixed(2) + 'M').join(', '),
        dot.validMse.toFixed(4),
        dot.trainSeconds.toFixed(1),
        String(dot.peakRssMb),
      ]);
    }
  }
}
console.log(`## collab mf (50 factors, 2 threads) against LIBMF (50 factors, 20 iterations, 2 threads, lambda 0.05); load average ${loadBefore} before the runs, ${load()} after\n`);
table(
  ['ratings', 'LIBMF valid MSE', 'LIBMF s', 'LIBMF peak RSS MB', 'collab recipe', 'collab epoch reaching LIBMF', 'collab s then', 'collab s / LIBMF s', 'collab final MSE', 'collab s (all epochs)', 'collab peak RSS MB'],
  mfRows,
);
if (dotRows.length > 0) {
  console.log('## collab dotbias (AdamW one-cycle, bs 64)\n');
  table(['ratings', 'setup', 'threads run', 'epochs', 'ratings/s per epoch', 'valid MSE', 'train s', 'peak RSS MB'], dotRows);
}
