import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRating } from './split.js';
import { runCli, type CliRun } from '../testing/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'collab-split-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// `collab split ...` through the built CLI (usage errors exit 2, other errors 1).
function collab(...args: string[]): CliRun {
  return runCli(['split', ...args]);
}

// The ten hand-checked ratings of src/data/split.test.ts, as a CRLF CSV with a header.
const TEN = [
  '1,10,4,1',
  '1,20,3,2',
  '1,30,5,7',
  '2,10,2,3',
  '2,20,4,7',
  '2,40,1,4',
  '3,10,5,5',
  '3,20,3,6',
  '3,30,4,7',
  '4,50,2,0',
];
const HEADER = 'userId,movieId,rating,timestamp\n';
const file = join(tmp, 'ten.csv');
writeFileSync(file, 'userId,movieId,rating,timestamp\r\n' + TEN.join('\r\n') + '\r\n');
const noTime = join(tmp, 'notime.tsv');
writeFileSync(noTime, TEN.map((l) => l.split(',').slice(0, 3).join('\t')).join('\n') + '\n');
const csv = (rows: number[]) => HEADER + rows.map((k) => TEN[k] + '\n').join('');

test('collab split FILE: seeded random split written as train.csv/valid.csv, counts as JSON', () => {
  const out = join(tmp, 'random');
  const r = collab(file, '--out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'valid.csv'), 'utf8'), csv([1, 8]));
  assert.equal(readFileSync(join(out, 'train.csv'), 'utf8'), csv([0, 2, 3, 4, 5, 6, 7, 9]));
  assert.deepEqual(r.json, {
    source: file,
    by: 'random',
    validPct: 0.2,
    seed: 42,
    cold: 'keep',
    ratings: 10,
    train: 8,
    valid: 2,
    dropped: 0,
    coldUsers: { ids: 0, ratings: 0 },
    coldItems: { ids: 0, ratings: 0 },
    trainFile: join(out, 'train.csv'),
    validFile: join(out, 'valid.csv'),
  });
  assert.match(r.stderr, /train: 8 ratings -> /);
});

test('--by time, --by time --per-user, --holdout-k, --by-user', () => {
  let out = join(tmp, 'time');
  let r = collab(file, '--out', out, '--by', 'time', '--valid-pct', '0.3', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'valid.csv'), 'utf8'), csv([2, 4, 8]));
  assert.equal(r.json?.by, 'time');
  assert.equal(r.json?.seed, undefined);

  out = join(tmp, 'user-time');
  r = collab(file, '--out', out, '--by', 'time', '--per-user', '--valid-pct', '0.5', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'valid.csv'), 'utf8'), csv([2, 4, 8]));
  assert.equal(r.json?.usersKeptInTrain, 1);

  out = join(tmp, 'k1');
  r = collab(file, '--out', out, '--holdout-k', '1', '--seed', '7', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'valid.csv'), 'utf8'), csv([2, 3, 8]), 'numpy RandomState(7) picks');
  assert.equal(r.json?.by, 'user');
  assert.equal(r.json?.holdoutK, 1);
  assert.equal(r.json?.usersHeldOut, 3);
  assert.equal(r.json?.usersKeptInTrain, 1);

  out = join(tmp, 'byuser');
  r = collab(file, '--out', out, '--by-user', '0.5', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.validPct, 0.5);
  assert.equal(r.json?.valid, 3);
});

test('--cold drop removes valid ratings of users/items absent from train and reports them', () => {
  const out = join(tmp, 'drop');
  const r = collab(file, '--out', out, '--valid-pct', '0.7', '--cold', 'drop', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'valid.csv'), 'utf8'), csv([7]));
  assert.deepEqual(r.json?.coldUsers, { ids: 2, ratings: 4 });
  assert.deepEqual(r.json?.coldItems, { ids: 3, ratings: 4 });
  assert.equal(r.json?.dropped, 6);
  assert.match(r.stderr, /dropped 6 valid ratings \(--cold drop\)/);
});

test('a file without timestamps is written without the timestamp column', () => {
  const out = join(tmp, 'notime');
  const r = collab(noTime, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'valid.csv'), 'utf8'), 'userId,movieId,rating\n1,20,3\n3,30,4\n');
});

test('bad options: one stderr line, exit 2; a missing file: exit 1', () => {
  const cases: [string[], string][] = [
    [['--valid-pct', '1.5'], '--valid-pct must be a number greater than 0 and less than 1 (the fraction of ratings for validation), got 1.5'],
    [['--valid-pct', 'abc'], '--valid-pct must be a number, got "abc"'],
    [['--by-user', '0.8', '--holdout-k', '2'], 'give either --by-user or --holdout-k, not both'],
    [['--holdout-k', '2', '--by', 'time'], '--by-user and --holdout-k make a per-user holdout; they cannot be used with --by time'],
    [['--holdout-k', '0'], '--holdout-k must be an integer >= 1, got 0'],
    [['--holdout-k', '1.5'], '--holdout-k must be an integer, got "1.5"'],
    [['--per-user'], '--per-user applies to --by time only'],
    [['--seed', '-3'], '--seed must be an integer from 0 to 4294967295, got -3'],
  ];
  for (const [args, message] of cases) {
    const r = collab(file, '--out', join(tmp, 'bad'), ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr, `collab: error: ${message}\n`);
  }
  const time = collab(noTime, '--out', join(tmp, 'bad'), '--by', 'time');
  assert.equal(time.status, 2);
  assert.match(time.stderr, /a temporal split needs timestamps, but these ratings have none/);
  const missing = collab(join(tmp, 'nope.csv'), '--out', join(tmp, 'bad'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^collab: error: no dataset or file ".*nope\.csv": give a ratings file/);
  const by = collab(file, '--out', join(tmp, 'bad'), '--by', 'rows');
  assert.equal(by.status, 2);
  assert.match(by.stderr, /argument 'rows' is invalid. Allowed choices are random, time, user/);
});

test('formatRating prints the shortest decimal of a float32', () => {
  assert.equal(formatRating(4), '4');
  assert.equal(formatRating(3.5), '3.5');
  assert.equal(formatRating(Math.fround(0.1)), '0.1');
  assert.equal(formatRating(Math.fround(3.7)), '3.7');
});

const DATA = process.env.COLLAB_DATA_DIR;

test('collab split ml-100k (by name) writes exactly splits/ml-100k-seed42', { skip: !DATA && 'COLLAB_DATA_DIR unset' }, () => {
  const out = join(tmp, 'ml-100k');
  const r = collab('ml-100k', '--data-dir', DATA!, '--out', out, '--seed', '42', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.train, 80000);
  assert.equal(r.json?.valid, 20000);
  for (const f of ['train.csv', 'valid.csv']) {
    assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(DATA!, 'splits', 'ml-100k-seed42', f))), `${f} byte for byte`);
  }
});
