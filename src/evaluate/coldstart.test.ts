import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { RandomState } from '../core/random.js';
import { loadDataset } from '../data/load.js';
import { HybridModel } from '../models/hybrid.js';
import { userFeatureMap } from '../recommend/feature-map.js';
import { COLD_MODELS, coldStartBenchmark, coldStartSeeds, formatColdStartSummary, formatColdStartTable, metadataPopularity } from './coldstart.js';

/**
 * A tiny ml-100k folder with known structure: 80 users, 40 movies (1-20 Comedy, 21-40 Drama); women
 * rate comedies 4-5 and dramas 1-2, men the opposite; each user rates a seeded 60% of the movies.
 */
function writeFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'collab-coldstart-'));
  const rng = new RandomState(3);
  const data: string[] = [];
  const users: string[] = [];
  for (let u = 1; u <= 80; u++) {
    const female = u % 2 === 0;
    users.push(`${u}|${20 + (u % 40)}|${female ? 'F' : 'M'}|${u % 3 === 0 ? 'student' : 'engineer'}|${u % 10}0000`);
    for (let i = 1; i <= 40; i++) {
      if (rng.random() >= 0.6) continue;
      const likes = i <= 20 === female;
      data.push(`${u}\t${i}\t${likes ? 4 + rng.interval(1) : 1 + rng.interval(1)}\t${880000000 + u * 100 + i}`);
    }
  }
  const items: string[] = [];
  for (let i = 1; i <= 40; i++) {
    const flags = new Array(19).fill(0);
    flags[i <= 20 ? 5 : 8] = 1; // Comedy, Drama in u.genre order
    items.push(`${i}|Movie ${i} (${1990 + (i % 10)})|01-Jan-${1990 + (i % 10)}||http://example.org/${i}|${flags.join('|')}`);
  }
  writeFileSync(join(dir, 'u.data'), data.join('\n') + '\n');
  writeFileSync(join(dir, 'u.item'), items.join('\n') + '\n');
  writeFileSync(join(dir, 'u.user'), users.join('\n') + '\n');
  return dir;
}

test('metadataPopularity: ridge regression of ln(1 + count) on features, worked by hand', () => {
  // rated: item 0 [f0] count 3 (y = ln 4), item 1 [] count 1 (y = ln 2); unrated item 2 [f0].
  // Normal equations over (f0, intercept) with λ = 1 on f0: [[2, 1], [1, 2]] w = [ln 4, ln 4 + ln 2]
  // → w_f0 = (ln 4 - ln 2) / 3, w_0 = (ln 4 + 2 ln 2) / 3, estimate (2 ln 4 + ln 2) / 3 = 5 ln 2 / 3.
  const features = { names: ['f0'], offsets: [0, 1, 1, 2], indices: [0, 0], weights: [1, 1] };
  const est = metadataPopularity(features, Float32Array.of(3, 1, 0), 1);
  assert.ok(Math.abs(est[2]! - (5 * Math.LN2) / 3) < 1e-6, `${est[2]}`);
  assert.equal(est[0], Math.fround(Math.log(4)));
  assert.equal(est[1], Math.fround(Math.LN2));
});

test('userFeatureMap: with one feature group and a tiny ridge, a new user gets the mean representation of their group', () => {
  // users 0..5 alternate F/M; user 6 (F) is new
  const userFeatures = { names: ['gender:F', 'gender:M'], offsets: [0, 1, 2, 3, 4, 5, 6, 7], indices: [0, 1, 0, 1, 0, 1, 0], weights: [1, 1, 1, 1, 1, 1, 1] };
  const m = new HybridModel(7, 3, { nFactors: 2, userFeatures }, 1);
  const rng = new RandomState(9);
  for (const p of m.params) for (let t = 0; t < p.value.length; t++) p.value[t] = rng.normal();
  const trained = Uint8Array.of(1, 1, 1, 1, 1, 1, 0);
  const prior = userFeatureMap(m, trained, 1e-7).predict(6);
  const mean = [0, 0, 0];
  for (const u of [0, 2, 4]) {
    const rep = m.userRepresentation(u);
    mean[0] += rep.vector[0]! / 3;
    mean[1] += rep.vector[1]! / 3;
    mean[2] += rep.bias / 3;
  }
  for (let f = 0; f < 2; f++) assert.ok(Math.abs(prior.vector[f]! - mean[f]!) < 1e-4, `${prior.vector[f]} vs ${mean[f]}`);
  assert.ok(Math.abs(prior.bias - mean[2]!) < 1e-4);
  // a big ridge pulls every user to the mean of all trained users
  const flat = userFeatureMap(m, trained, 1e9);
  const a = flat.predict(6);
  const b = flat.predict(1);
  assert.ok(Math.abs(a.bias - b.bias) < 1e-6);
});

test('cold-start benchmark: every scenario and model, reproducible, demographics help new users', async () => {
  const dir = writeFolder();
  try {
    const data = loadDataset(dir);
    const options = { heldOutUsers: 10, heldOutItemPct: 0.2, given: [0, 3], epochs: 20, lr: 2e-2, nFactors: 8 };
    const report = await coldStartBenchmark(data, options);
    assert.deepEqual(
      [...new Set(report.rows.map((r) => r.scenario))],
      ['warm', 'user-0', 'user-3', 'item'],
    );
    assert.equal(report.rows.length, 4 * COLD_MODELS.length);
    assert.equal(report.heldOutUsers, 10);
    assert.equal(report.heldOutItems, 8);
    for (const r of report.rows) {
      if (r.model === 'popularity') assert.ok(Number.isNaN(r.rmse));
      else assert.ok(r.rmse > 0 && r.rmse < 4, `${r.scenario} ${r.model} rmse ${r.rmse}`);
      assert.ok(r.users > 0 && r.precision >= 0 && r.precision <= 1);
    }
    const row = (s: string, m: string) => report.rows.find((r) => r.scenario === s && r.model === m)!;
    // gender decides taste here: with demographics alone the hybrid must beat the mean user of dotbias
    assert.ok(row('user-0', 'hybrid').rmse < row('user-0', 'dotbias').rmse - 0.3, formatColdStartTable(report).join('\n'));
    assert.ok(row('user-0', 'hybrid').precision > row('user-0', 'popularity').precision, formatColdStartTable(report).join('\n'));
    // genres decide taste: new movies are predicted from metadata better than by the untrained dotbias rows
    assert.ok(row('item', 'hybrid').rmse < row('item', 'dotbias').rmse, formatColdStartTable(report).join('\n'));
    const again = await coldStartBenchmark(data, options);
    assert.deepEqual(again.rows, report.rows);
    assert.ok(formatColdStartTable(report)[1]!.startsWith('warm      hybrid'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cold-start over seeds: each seed its own split, rows summarised with mean, sd and wins over dotbias', async () => {
  const dir = writeFolder();
  try {
    const data = loadDataset(dir);
    const options = { heldOutUsers: 10, heldOutItemPct: 0.2, given: [0, 3], epochs: 8, lr: 2e-2, nFactors: 8 };
    const summary = await coldStartSeeds(data, options, [1, 2]);
    assert.deepEqual(summary.seeds, [1, 2]);
    assert.equal(summary.reports.length, 2);
    assert.notDeepEqual(summary.reports[0]!.rows, summary.reports[1]!.rows);
    assert.equal(summary.rows.length, 4 * COLD_MODELS.length);
    const one = await coldStartBenchmark(data, { ...options, seed: 2 });
    assert.deepEqual(summary.reports[1]!.rows, one.rows);
    for (const row of summary.rows) {
      const per = summary.reports.map((r) => r.rows.find((x) => x.scenario === row.scenario && x.model === row.model)!.ndcg);
      assert.ok(Math.abs(row.ndcg.mean - (per[0]! + per[1]!) / 2) < 1e-12);
      assert.ok(Math.abs(row.ndcg.sd - Math.abs(per[0]! - per[1]!) / Math.SQRT2) < 1e-12);
      if (row.model === 'dotbias') assert.equal(row.beatsDotbias, undefined);
      else assert.ok(row.beatsDotbias!.ndcg >= 0 && row.beatsDotbias!.ndcg <= 2);
    }
    const text = formatColdStartSummary(summary);
    assert.match(text[0]!, /^2 seeds \(1, 2\): mean ± sd/);
    assert.ok(text.some((l) => /^user-3 {4}hybrid {5}\d\.\d{3} ± \d\.\d{3}/.test(l)), text.join('\n'));
    await assert.rejects(coldStartSeeds(data, options, []), /seeds must list at least one seed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cold-start options are checked', async () => {
  const dir = writeFolder();
  try {
    const data = loadDataset(dir);
    await assert.rejects(coldStartBenchmark(data, { heldOutItemPct: 2 }), /heldOutItemPct must be a number from 0 to 0.9, got 2/);
    await assert.rejects(coldStartBenchmark({ ...data, users: new Map() }, { scenarios: ['users'], userFeatures: ['age'] }), /has no user demographics; use --user-features none/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs `collab <args>` with the commands of this branch registered (main.ts wiring is the lead's). */
function runCommands(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const script = [
    "import { Command } from 'commander';",
    "import { registerColdstartCommand } from './dist/cli/coldstart.js';",
    "import { registerRankCommand } from './dist/cli/rank.js';",
    "const p = new Command('collab').exitOverride();",
    'registerColdstartCommand(p); registerRankCommand(p);',
    "await p.parseAsync(process.argv.slice(1).filter((a) => a !== '--'), { from: 'user' });",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('collab coldstart --json prints the report as the last stdout line; bad flags exit 2 naming the flag', () => {
  const dir = writeFolder();
  try {
    const r = runCommands(['coldstart', dir, '--users', '6', '--given', '0,2', '--epochs', '2', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rows: { scenario: string }[]; heldOutUsers: number };
    assert.equal(report.heldOutUsers, 6);
    assert.deepEqual([...new Set(report.rows.map((x) => x.scenario))], ['warm', 'user-0', 'user-2', 'item']);
    assert.match(r.stderr, /scenario {2}model/);
    const bad = runCommands(['coldstart', dir, '--item-features', 'genres,actors']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--item-features has unknown feature "actors"/);
    const given = runCommands(['coldstart', dir, '--given', '0,x']);
    assert.equal(given.status, 2);
    assert.match(given.stderr, /--given must be a number, got "x"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab rank trains EASE and reports the protocol metrics; --user lists unseen movies', () => {
  const dir = writeFolder();
  try {
    const r = runCommands(['rank', '--data', dir, '--user', '2', '-n', '3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { precision: number; ndcg: number; items: { itemId: number; title: string }[]; model: string };
    assert.equal(out.model, 'ease');
    assert.ok(out.precision > 0 && out.ndcg > 0);
    assert.equal(out.items.length, 3);
    assert.match(out.items[0]!.title, /^Movie \d+ \(\d{4}\)$/);
    const bad = runCommands(['rank', '--data', dir, '--user', '999']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown user id 999/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
