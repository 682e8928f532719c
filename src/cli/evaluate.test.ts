import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'collab-evaluate-'));
const model = join(dir, 'model.json');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Ratings of users from..from+19 on movies 1..15. */
function ratings(name: string, from: number): string {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = from; u < from + 20; u++) for (let i = 1; i <= 15; i++) if ((u + i) % 3 !== 0) lines.push(`${u},${i},${(u * i) % 5 + 1},0`);
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
const own = ratings('own.csv', 1);
const foreign = ratings('foreign.csv', 1001);

before(() => {
  const r = run(['train', '--data', own, '--epochs', '1', '--factors', '3', '--valid-pct', '0', '--out', model]);
  assert.equal(r.status, 0, r.stderr);
});

test('collab evaluate on data the model never saw warns on stderr and in --json; --strict refuses', () => {
  const r = run(['evaluate', '--model', model, '--data', foreign, '--rating-only', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const warning = /^warning: the model never trained on 20 of the 20 test users \(100% of the test ratings\) and 0 of the 15 test movies \(0% of the test ratings\): is this test data from the dataset the model was trained on\? Their ratings are predicted as the training mean$/m;
  assert.match(r.stderr, warning);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { unknownToModel: { users: unknown; warning: string } };
  assert.deepEqual(out.unknownToModel.users, { unknown: 20, total: 20 });
  assert.match('warning: ' + out.unknownToModel.warning, warning);
  const strict = run(['evaluate', '--model', model, '--data', foreign, '--strict', '--json']);
  assert.equal(strict.status, 1);
  const err = JSON.parse(strict.stdout.trim().split('\n').pop()!) as { error: { code: string; message: string } };
  assert.equal(err.error.code, 'BAD_FILE');
  assert.ok(err.error.message.startsWith(`${foreign}: the model never trained on 20 of the 20 test users`));
  const fine = run(['evaluate', '--model', model, '--data', own, '--rating-only', '--strict']);
  assert.equal(fine.status, 0, fine.stderr);
  assert.doesNotMatch(fine.stderr, /warning/);
});

test('collab compare --valid and rank --test warn the same way about foreign test data, and refuse under --strict', () => {
  const c = run(['compare', '--data', own, '--valid', foreign, '--models', 'dotbias', '--json']);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, /^warning: the model never trained on 20 of the 20 test users/m);
  assert.deepEqual((JSON.parse(c.stdout.trim().split('\n').pop()!) as { unknownToModel: { users: unknown } }).unknownToModel.users, { unknown: 20, total: 20 });
  assert.equal(run(['compare', '--data', own, '--valid', foreign, '--models', 'dotbias', '--strict']).status, 1);
  const r = run(['rank', '--data', own, '--test', foreign, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: the model never trained on 20 of the 20 test users/m);
  const strict = run(['rank', '--data', own, '--test', foreign, '--strict']);
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, /\(refused under --strict\)/);
});

test('collab evaluate --given folds in every user of the given file as a new visitor and ranks against the test file', () => {
  const given = join(dir, 'given.csv');
  const test = join(dir, 'test.csv');
  // visitors 1001..1003: two given ratings each, the rest of their movies to find
  writeFileSync(given, 'userId,movieId,rating\n1001,1,5\n1001,2,4\n1002,3,5\n1002,4,2\n1003,5,4\n1003,99,5\n');
  writeFileSync(test, 'userId,movieId,rating\n1001,3,5\n1001,4,1\n1002,1,4\n1002,6,3\n1003,7,2\n1003,98,5\n');
  const r = run(['evaluate', '--model', model, '--given', given, '--data', test, '--threshold', '0', '--k', '5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^3 visitors folded in from 6 given ratings \(0 with no movie the model knows; unknown movies: 1 given, 1 test, left out\)$/m);
  assert.match(r.stderr, /^ranking @5 over 3 visitors \(relevant: rating >= 0; 0 visitors without relevant items skipped\):$/m);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { visitors: number; knownToModel: number; ranking: { users: number; ndcg: number; threshold: number } };
  assert.equal(out.visitors, 3);
  assert.equal(out.knownToModel, 0);
  assert.equal(out.ranking.threshold, 0);
  assert.ok(out.ranking.ndcg >= 0 && out.ranking.ndcg <= 1);
  const four = run(['evaluate', '--model', model, '--given', given, '--data', test, '--json']);
  assert.equal((JSON.parse(four.stdout.trim().split('\n').pop()!) as { ranking: { users: number; skippedUsers: number } }).ranking.skippedUsers, 1, 'threshold 4 by default: visitor 1003 has no relevant movie');
  const known = run(['evaluate', '--model', model, '--given', own, '--data', test]);
  assert.equal(known.status, 0, known.stderr);
  assert.match(known.stderr, /^warning: 20 of the 20 users of .*own\.csv are users the model trained on; they are folded in from --given alone, but the figures then flatter the model$/m);
  const bad = run(['evaluate', '--model', model, '--given', given, '--data', test, '--rating-only']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--rating-only and --given do not go together: new visitors are scored by ranking/);
});
