import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { dataCommand, loadOptionsFromFlags, registerDataCommands } from './data.js';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'collab-cli-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `collab ...args` and returns exit code, stdout, stderr. */
function collab(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, COLLAB_HOME: join(dir, 'home'), ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object on the last stdout line. */
function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const good = 'userId,movieId,rating,timestamp\n1,1,4,100\n1,2,3,100\n2,1,5,100\n2,3,1,100\n3,1,2,100\n';
const withBadLine7 = join(dir, 'bad7.csv');
writeFileSync(withBadLine7, good + '3,2,four,100\n4,4,4,100\n');

describe('collab data info', () => {
  test('--json: the last stdout line is the stats object; the table goes to stderr', () => {
    const path = join(dir, 'ok.csv');
    writeFileSync(path, good);
    const r = collab(['data', 'info', path, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.equal(s.ratings, 5);
    assert.equal(s.users, 3);
    assert.equal(s.items, 3);
    assert.deepEqual(s.scale, { min: 1, max: 5 });
    assert.deepEqual(s.layout, { delimiter: ',', header: true, columns: ['userId', 'movieId', 'rating', 'timestamp'], userColumn: 0, itemColumn: 1, ratingColumn: 2, timestampColumn: 3 });
    assert.match(r.stderr, /^ratings +5$/m);
    assert.match(r.stderr, /^format +","-separated, header; user userId, item movieId, rating rating, time timestamp$/m);
  });

  test('without --json the table goes to stdout', () => {
    const path = join(dir, 'ok2.csv');
    writeFileSync(path, good);
    const r = collab(['data', 'info', path]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^users +3$/m);
  });

  test('a bad line 7 exits 1 with one stderr line naming line 7', () => {
    const r = collab(['data', 'info', withBadLine7]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `collab: error: ${withBadLine7}:7: rating "four" is not a finite number; fix the row or use --skip-bad-rows to skip such rows\n`,
    );
  });

  test('--skip-bad-rows counts the bad row instead', () => {
    const r = collab(['data', 'info', withBadLine7, '--skip-bad-rows', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.equal(s.ratings, 6);
    assert.equal(s.badRows, 1);
    assert.deepEqual(s.badRowExamples, [`${withBadLine7}:7: rating "four" is not a finite number`]);
  });

  test('layout flags: --delimiter, --no-header, columns, --scale, --duplicates', () => {
    const path = join(dir, 'odd.txt');
    writeFileSync(path, '5;a;1\n4;a;1\n3;b;2\n');
    const r = collab(['data', 'info', path, '--delimiter', ';', '--no-header', '--rating-col', '0', '--user-col', '2', '--item-col', '1', '--time-col', 'none', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.deepEqual([s.ratings, s.users, s.items, s.duplicates], [2, 2, 2, 1]);
    assert.equal(s.timeRange, null);
    const strict = collab(['data', 'info', path, '--rating-col', '0', '--user-col', '2', '--item-col', '1', '--duplicates', 'error']);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /:2: duplicate rating of item "a" by user 1 \(first at line 1\)/);
    const scale = collab(['data', 'info', path, '--rating-col', '0', '--user-col', '2', '--item-col', '1', '--scale', '1,4']);
    assert.equal(scale.code, 1);
    assert.match(scale.stderr, /:1: rating 5 is outside the declared scale 1 to 4/);
  });

  test('bad flag values are usage errors (exit 2)', () => {
    const r = collab(['data', 'info', withBadLine7, '--scale', '5']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'collab: error: --scale must be "lo,hi" with lo <= hi (e.g. 0.5,5), got "5"\n');
    assert.equal(collab(['data', 'info', withBadLine7, '--delimiter', 'x']).code, 2);
  });

  test('a missing dataset exits 1 and says how to get it', () => {
    const r = collab(['data', 'info', 'ml-20m', '--data-dir', dir], { COLLAB_DATA_DIR: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^collab: error: dataset ml-20m is not in .*; run `collab data fetch ml-20m` to download it, or set COLLAB_DATA_DIR \(or --data-dir\) to a folder holding ml-20m\/\n$/);
  });
});

describe('collab data generate', () => {
  test('writes the file and reports it; data info reads it back', () => {
    const out = join(dir, 'gen', 'ratings.csv');
    const r = collab(['data', 'generate', '--rows', '3000', '--out', out, '--users', '50', '--items', '300', '--scale', 'whole', '--seed', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const g = lastJson(r.stdout);
    assert.deepEqual([g.rows, g.users, g.items, g.path], [3000, 50, 300, out]);
    assert.ok(existsSync(out));
    const s = lastJson(collab(['data', 'info', out, '--json']).stdout);
    assert.equal(s.ratings, 3000);
    assert.deepEqual(s.scale, { min: 1, max: 5 });
  });

  test('a missing --rows is a usage error', () => {
    const r = collab(['data', 'generate', '--out', join(dir, 'x.csv')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /required option '--rows <n>' not specified/);
  });
});

test('dataCommand returns the one `data` command, so other modules can add subcommands', () => {
  const program = new Command('collab');
  registerDataCommands(program);
  const data = dataCommand(program);
  assert.equal(program.commands.filter((c) => c.name() === 'data').length, 1);
  assert.deepEqual(data.commands.map((c) => c.name()), ['info', 'generate']);
});

test('loadOptionsFromFlags maps flags to LoadOptions', () => {
  assert.deepEqual(
    loadOptionsFromFlags({ dataDir: 'd', skipBadRows: true, delimiter: 'tab', header: false, userCol: '2', itemCol: 'movie', timeCol: 'none', scale: '0.5,5', duplicates: 'keep-first', metadata: false }),
    { dataDir: 'd', skipBadRows: true, delimiter: '\t', header: false, userColumn: 2, itemColumn: 'movie', timestampColumn: null, scale: [0.5, 5], duplicates: 'keep-first', metadata: false },
  );
});

// Real data: skipped unless COLLAB_DATA_DIR points at the MovieLens files.
const real = process.env.COLLAB_DATA_DIR ?? '';
describe('collab data info on real MovieLens', { skip: real === '' ? 'COLLAB_DATA_DIR is not set' : false }, () => {
  const cases: [string, number, number, number][] = [
    ['ml-100k', 100000, 943, 1682],
    ['ml-latest-small', 100836, 610, 9724],
    [join(real, 'splits', 'ml-100k-seed42', 'train.csv'), 80000, 943, 1653],
  ];
  for (const [name, ratings, users, items] of cases) {
    test(`${name.startsWith(real) && real !== '' ? 'splits/ml-100k-seed42/train.csv' : name}: ${ratings} / ${users} / ${items}`, () => {
      const r = collab(['data', 'info', name, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = lastJson(r.stdout);
      assert.deepEqual([s.ratings, s.users, s.items], [ratings, users, items]);
    });
  }

  test('ml-1m (no ratings.dat here) exits 1 saying ratings.dat is missing', () => {
    const r = collab(['data', 'info', 'ml-1m']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ml-1m is incomplete: ratings\.dat is missing/);
  });
});
