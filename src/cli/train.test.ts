import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });

/** A small ratings file with two tastes (user u likes items of its parity). */
function writeRatings(dir: string): string {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 30; u++) for (let i = 1; i <= 20; i++) if ((u * 7 + i * 3) % 5 !== 0) lines.push(`${u},${i},${u % 2 === i % 2 ? 5 : 1},0`);
  const path = join(dir, 'ratings.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

test('collab train --json reports validMse, validRmse, trainSeconds, a per-epoch history and the peak RSS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-'));
  try {
    const file = writeRatings(dir);
    const r = run(['train', '--data', file, '--epochs', '3', '--factors', '4', '--bs', '32', '--lr', '0.03', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.model, 'dotbias');
    assert.equal(out.history.length, 3);
    for (const h of out.history) for (const key of ['epoch', 'trainLoss', 'validMse', 'elapsed']) assert.equal(typeof h[key], 'number');
    assert.ok(out.validMse > 0 && Math.abs(out.validRmse - Math.sqrt(out.validMse)) < 1e-12);
    assert.ok(out.trainSeconds > 0);
    assert.ok(Number.isInteger(out.peakRssMb) && out.peakRssMb > 10, `peakRssMb ${out.peakRssMb}`);
    assert.match(r.stderr, /epoch\s+train_loss\s+valid_loss\s+valid_rmse\s+time/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab train --wd auto trains with the recipe\'s wd (a small set keeps it) and reports the wd it used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-'));
  try {
    const file = writeRatings(dir);
    const r = run(['train', '--data', file, '--epochs', '1', '--factors', '4', '--wd', 'auto', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.options.wd, 0.2);
    assert.doesNotMatch(r.stderr, /note: wd/, 'no size note on a small set');
    assert.match(r.stderr, /wd auto: 0\.2 \(dotbias's 0\.2, kept: \d+ training ratings are no more than it was tuned on\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab train --pick-factors sets the hybrid\'s pick head (saved in the model); on a model without one it is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-pick-'));
  try {
    const file = writeRatings(dir);
    const out = join(dir, 'hybrid.json');
    const common = ['train', '--data', file, '--epochs', '2', '--factors', '4', '--bs', '32', '--lr', '0.03'];
    const r = run([...common, '--model', 'hybrid', '--pick-factors', '3', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(out, 'utf8')) as { config: { pickFactors: number } };
    assert.equal(manifest.config.pickFactors, 3);
    const off = run([...common, '--model', 'hybrid', '--pick-factors', '0', '--out', out, '--json']);
    assert.equal(off.status, 0, off.stderr);
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { config: { pickFactors: number } }).config.pickFactors, 0);
    // a bare ratings file has no metadata: the default model is dotbias, which has no pick head
    const bare = run([...common, '--pick-factors', '3']);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /--user-features, --item-features and --pick-factors are for --model hybrid \(this is dotbias: the data has no metadata\)/);
    const bad = run([...common, '--model', 'hybrid', '--pick-factors', '-1']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--pick-factors must be an integer >= 0, got -1/);
    const blocks = run([...common, '--blocks', 'banana']);
    assert.equal(blocks.status, 2);
    assert.match(blocks.stderr, /--blocks must be a whole number of bins or "auto", got "banana"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab train without --data is a usage error (exit 2) that says what to pass', () => {
  const r = run(['train']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /collab: error: --data is required: a dataset name \(ml-100k, ml-latest-small, \.\.\.\), a folder or a ratings file/);
});

test('collab train names a bad file row by file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-'));
  try {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, 'userId,movieId,rating\n1,2,4\n1,3,four\n');
    const r = run(['train', '--data', path]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.csv:3: rating "four" is not a finite number; fix the row or use --skip-bad-rows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab lr-find --json suggests an lr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-'));
  try {
    const r = run(['lr-find', '--data', writeRatings(dir), '--factors', '4', '--num-it', '50', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.ok(out.valley > 0 && out.lrs.length === out.losses.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab train --db trains on a service database (imported ratings), saves with --out, and the model recommends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-'));
  try {
    const file = writeRatings(dir);
    const db = join(dir, 'ratings.sqlite');
    const imported = run(['db', 'import', file, '--db', db]);
    assert.equal(imported.status, 0, imported.stderr);
    const model = join(dir, 'model.json');
    const r = run(['train', '--db', db, '--epochs', '3', '--factors', '4', '--bs', '32', '--lr', '0.03', '--out', model, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.nTrain + out.nValid, 480);
    assert.equal(out.modelFile, model);
    const rec = run(['recommend', '--model', model, '--user', '2', '-n', '2', '--min-ratings', '0', '--json']);
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(JSON.parse(rec.stdout.trim().split('\n').pop()!).items.length, 2);
    const both = run(['train', '--db', db, '--data', file]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give --data or --db, not both/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab train --data ml-100k/u1.base --valid ml-100k/u1.test finds both files in --data-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-train-under-'));
  try {
    const lines: string[] = [];
    for (let u = 1; u <= 20; u++) for (let i = 1; i <= 15; i++) if ((u + i) % 4 !== 0) lines.push(`${u}\t${i}\t${(u + i) % 5 + 1}\t0`);
    mkdirSync(join(dir, 'ml-100k'));
    writeFileSync(join(dir, 'ml-100k', 'u1.base'), lines.slice(0, 200).join('\n') + '\n');
    writeFileSync(join(dir, 'ml-100k', 'u1.test'), lines.slice(200).join('\n') + '\n');
    const r = spawnSync(process.execPath, [main, 'train', '--data', 'ml-100k/u1.base', '--valid', 'ml-100k/u1.test', '--data-dir', dir, '--epochs', '1', '--factors', '2', '--json'], { encoding: 'utf8', cwd: tmpdir() });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { nTrain: number; nValid: number };
    assert.deepEqual([out.nTrain, out.nValid], [200, lines.length - 200]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab lr-find --model hybrid ramps the hybrid with its side features, as train builds it (not dotbias under another name)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-lrfind-hybrid-'));
  try {
    const folder = join(dir, 'ml-tiny');
    mkdirSync(folder);
    writeFileSync(join(folder, 'ratings.csv'), readFileSync(writeRatings(dir)));
    writeFileSync(join(folder, 'movies.csv'), 'movieId,title,genres\n' + Array.from({ length: 20 }, (_, i) => `${i + 1},Movie ${i + 1} (${1990 + i}),${i % 2 ? 'Drama' : 'Comedy'}`).join('\n') + '\n');
    const ramp = (model: string) => {
      const r = run(['lr-find', '--data', folder, '--model', model, '--factors', '4', '--num-it', '30', '--cycle-it', '30', '--json']);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { model: string; losses: number[] };
    };
    const hybrid = ramp('hybrid');
    const dotbias = ramp('dotbias');
    assert.equal(hybrid.model, 'hybrid');
    assert.notDeepEqual(hybrid.losses, dotbias.losses);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab lr-find without --model ramps what train trains by default (the hybrid on data with movie metadata), says so, and tries each reading on the validation split', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-lrfind-default-'));
  try {
    const folder = join(dir, 'ml-tiny');
    mkdirSync(folder);
    writeFileSync(join(folder, 'ratings.csv'), readFileSync(writeRatings(dir)));
    writeFileSync(join(folder, 'movies.csv'), 'movieId,title,genres\n' + Array.from({ length: 20 }, (_, i) => `${i + 1},Movie ${i + 1} (${1990 + i}),${i % 2 ? 'Drama' : 'Comedy'}`).join('\n') + '\n');
    const r = run(['lr-find', '--data', folder, '--factors', '4', '--num-it', '30', '--cycle-it', '30', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n'); // --json: the report on stdout, the running commentary on stderr
    assert.equal(lines[0], 'ramping hybrid: the model collab train trains on ml-tiny by default');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { model: string; suggested: number; rule: string; trials: { rule: string; lr: number; validMse: number }[] };
    assert.equal(out.model, 'hybrid');
    assert.deepEqual(out.trials.map((t) => t.rule), ['minimum/10', 'middle', 'valley']);
    const best = out.trials.reduce((a, b) => (b.validMse < a.validMse ? b : a));
    assert.deepEqual([out.suggested, out.rule], [best.lr, best.rule]);
    assert.match(lines.find((l) => l.startsWith('tried '))!, /^tried the ramp's readings, 6 epochs one-cycle each, on the validation split: minimum\/10 \S+ → valid MSE \S+, middle \S+ → valid MSE \S+, valley \S+ → valid MSE \S+$/);
    // --epochs and --schedule say how train will run, so the readings are tried that way
    const custom = run(['lr-find', '--data', folder, '--factors', '4', '--num-it', '30', '--cycle-it', '30', '--epochs', '2', '--schedule', 'constant']);
    assert.equal(custom.status, 0, custom.stderr);
    assert.match(custom.stdout, /^tried the ramp's readings, 2 epochs constant each, on the validation split: /m);
    assert.match(custom.stdout, /^suggested for fit: \S+ \((minimum\/10|middle|valley) of a ramp over 30 batches\)$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
