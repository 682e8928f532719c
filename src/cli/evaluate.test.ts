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
