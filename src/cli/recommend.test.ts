import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'collab-recommend-'));
const data = join(dir, 'ratings.csv');
const model = join(dir, 'model.json');
after(() => rmSync(dir, { recursive: true, force: true }));

before(() => {
  // movie i is rated by more users the smaller i is, so the popularity term varies across movies
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 40; u++) for (let i = 1; i <= 20; i++) if ((u * 7 + i * 3) % 23 >= i) lines.push(`${u},${i},${(u + i) % 5 + 1},0`);
  writeFileSync(data, lines.join('\n') + '\n');
  const r = run(['train', '--data', data, '--epochs', '2', '--factors', '4', '--valid-pct', '0', '--out', model]);
  assert.equal(r.status, 0, r.stderr);
});

interface Item { score: number; rankScore: number }

test('collab recommend shows the rank score it sorts by beside the predicted rating, and says how the order is made', () => {
  const r = run(['recommend', '--model', model, '--user', '1', '-n', '8', '--min-ratings', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const items = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { items: Item[] }).items;
  assert.equal(items.length, 8);
  for (let t = 1; t < items.length; t++) assert.ok(items[t - 1]!.rankScore >= items[t]!.rankScore, 'sorted by rankScore');
  // rank score = predicted rating + 0.5 ln(1 + count) > the rating
  for (const it of items) assert.ok(it.rankScore > it.score);
  assert.match(r.stderr, /\nsorted by rank score = predicted rating \+ 0\.5 x a popularity term \(ln\(1 \+ training ratings\), or a hybrid's learned pick score\), so a higher rating can sit lower\n  #    movie  rating  rank score  title\n/);
  const folded = run(['recommend', '--model', model, '--ratings', '1:5,2:4', '--json']);
  assert.equal(folded.status, 0, folded.stderr);
  for (const it of (JSON.parse(folded.stdout.trim().split('\n').pop()!) as { items: Item[] }).items) assert.equal(typeof it.rankScore, 'number');
});

test('collab rank --user says its list is sorted by EASE score and gives rankScore in --json', () => {
  const r = run(['rank', '--data', data, '--user', '1', '-n', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const items = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { items: Item[] }).items;
  assert.equal(items.length, 3);
  for (const it of items) assert.equal(it.rankScore, it.score);
  assert.match(r.stderr, /what user 1 may watch next \(sorted by EASE score \(from what was watched; not a rating\)\):/);
});

test('collab recommend --user and rank --user never offer a movie the user rated anywhere in the data (training or validation part)', () => {
  const split = join(dir, 'split-model.json');
  // the default 80/20 split: a fifth of each user's ratings is validation, which the model must still count as seen
  const t = run(['train', '--data', data, '--epochs', '1', '--factors', '4', '--out', split]);
  assert.equal(t.status, 0, t.stderr);
  const rated = new Map<number, Set<number>>();
  for (let u = 1; u <= 40; u++) for (let i = 1; i <= 20; i++) if ((u * 7 + i * 3) % 23 >= i) (rated.get(u) ?? rated.set(u, new Set()).get(u)!).add(i);
  for (const u of [1, 2, 3, 5, 8, 13, 21, 34]) {
    const r = run(['recommend', '--model', split, '--user', String(u), '-n', '20', '--min-ratings', '0', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const items = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { items: { itemId: number }[] }).items.map((it) => it.itemId);
    assert.deepEqual(items.filter((i) => rated.get(u)!.has(i)), [], `user ${u}: no rated movie`);
    assert.equal(items.length, 20 - rated.get(u)!.size, `user ${u}: every unrated movie is a candidate`);
    const ranked = run(['rank', '--data', data, '--user', String(u), '-n', '20', '--json']);
    assert.equal(ranked.status, 0, ranked.stderr);
    const next = (JSON.parse(ranked.stdout.trim().split('\n').pop()!) as { items: { itemId: number }[] }).items.map((it) => it.itemId);
    assert.deepEqual(next.filter((i) => rated.get(u)!.has(i)), [], `rank --user ${u}: no rated movie`);
  }
  const all = run(['recommend', '--model', split, '--user', '1', '-n', '20', '--min-ratings', '0', '--include-rated', '--json']);
  assert.equal((JSON.parse(all.stdout.trim().split('\n').pop()!) as { items: unknown[] }).items.length, 20, '--include-rated offers every movie');
  const rankAll = run(['rank', '--data', data, '--user', '1', '-n', '20', '--include-rated', '--json']);
  assert.equal((JSON.parse(rankAll.stdout.trim().split('\n').pop()!) as { items: unknown[] }).items.length, 20);
});

test('collab train --valid-pct 0 trains on every rating and says there is no validation', () => {
  const r = run(['train', '--data', data, '--epochs', '1', '--factors', '4', '--valid-pct', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { nTrain: number; nValid: number };
  assert.equal(result.nValid, 0);
  assert.equal(result.nTrain, readFileSync(data, 'utf8').trim().split('\n').length - 1);
  assert.match(r.stderr, /: \d+ training ratings, 0 validation ratings\n/);
  assert.match(r.stderr, /\nno validation ratings \(train loss \d+\.\d{4}\) after /);
  assert.match(r.stderr, /\nepoch      train_loss time       \n0          \d\.\d{6}   00:00      \n/, 'the epoch table has no validation columns');
  assert.doesNotMatch(r.stderr, /NaN/);
});
