/**
 * Load benchmark (`npm run bench:load -- [--rows N] [--file FILE] [--keep]`): writes a synthetic
 * MovieLens-shaped ratings.csv of N rows (default 25,000,000, ml-25m's size) to a temp folder, or
 * reuses FILE, then loads it in a fresh child process and prints rows/s, peak RSS and the bytes per
 * rating held at the peak beyond the final columns. The child keeps generation out of the RSS figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRatingsFile } from '../data/read-delimited.js';
import { writeSyntheticRatings } from '../data/synthetic.js';

interface Measurement {
  rows: number;
  users: number;
  items: number;
  fileBytes: number;
  seconds: number;
  rowsPerSecond: number;
  /** User + system CPU time of the load: the figure other processes on the machine cannot slow down. */
  cpuSeconds: number;
  rowsPerCpuSecond: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  columnBytes: number;
  /** (peak RSS − final columns) / rows: everything else at the peak, Node itself included. */
  bytesPerRatingBeyondColumns: number;
  /** (peak RSS − RSS before loading − final columns) / rows: what loading added beyond its result. */
  loadBytesPerRatingBeyondColumns: number;
}

function flag(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}

/** Child mode: load one file and print the measurement as JSON. */
function measure(file: string): void {
  const baseline = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const ds = readRatingsFile(file);
  const cpu = process.cpuUsage(cpu0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peak = process.resourceUsage().maxRSS * 1024;
  const r = ds.ratings;
  const columnBytes = r.users.byteLength + r.items.byteLength + r.ratings.byteLength + (r.timestamps?.byteLength ?? 0);
  const rows = r.ratings.length;
  const m: Measurement = {
    rows,
    users: r.userIds.size,
    items: r.itemIds.size,
    fileBytes: statSync(file).size,
    seconds,
    rowsPerSecond: rows / seconds,
    cpuSeconds,
    rowsPerCpuSecond: rows / cpuSeconds,
    baselineRssBytes: baseline,
    peakRssBytes: peak,
    columnBytes,
    bytesPerRatingBeyondColumns: (peak - columnBytes) / rows,
    loadBytesPerRatingBeyondColumns: (peak - baseline - columnBytes) / rows,
  };
  process.stdout.write(JSON.stringify(m) + '\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const measureFile = flag(args, '--measure');
  if (measureFile) return measure(measureFile);

  const rows = Number(flag(args, '--rows') ?? 25_000_000);
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer, got ${flag(args, '--rows')}`);
  let file = flag(args, '--file');
  let tmp: string | undefined;
  if (!file) {
    tmp = mkdtempSync(join(tmpdir(), 'collab-bench-'));
    file = join(tmp, 'ratings.csv');
    const g = writeSyntheticRatings(file, { rows, seed: 42 });
    console.log(
      `generated ${g.rows.toLocaleString('en-US')} ratings (${g.users.toLocaleString('en-US')} users, ${g.items.toLocaleString('en-US')} items, ` +
        `${(g.bytes / 1e6).toFixed(0)} MB) in ${g.seconds.toFixed(1)} s (${(g.rows / g.seconds / 1e6).toFixed(2)} M rows/s)`,
    );
  }
  try {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`loading ${file} failed (exit ${child.status})`);
    const m = JSON.parse(child.stdout.trim().split('\n').pop()!) as Measurement;
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(`loaded   ${m.rows.toLocaleString('en-US')} ratings (${m.users.toLocaleString('en-US')} users, ${m.items.toLocaleString('en-US')} items) from ${(m.fileBytes / 1e6).toFixed(0)} MB in ${m.seconds.toFixed(2)} s`);
    console.log(
      `speed    ${(m.rowsPerSecond / 1e6).toFixed(2)} M rows/s wall clock (${(m.fileBytes / m.seconds / 1e6).toFixed(0)} MB/s) on one thread; ` +
        `${(m.rowsPerCpuSecond / 1e6).toFixed(2)} M rows per CPU second (${m.cpuSeconds.toFixed(2)} s CPU)`,
    );
    console.log(`memory   peak RSS ${mb(m.peakRssBytes)} (before loading ${mb(m.baselineRssBytes)}); final columns ${mb(m.columnBytes)} = ${(m.columnBytes / m.rows).toFixed(0)} B/rating`);
    console.log(`beyond   ${m.bytesPerRatingBeyondColumns.toFixed(1)} B/rating at peak beyond the final columns (${m.loadBytesPerRatingBeyondColumns.toFixed(1)} B/rating without Node's baseline)`);
    console.log(JSON.stringify(m));
  } finally {
    if (tmp && !args.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
    else if (tmp) console.log(`kept ${file}`);
  }
}

main();
