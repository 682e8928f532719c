import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { selectRows } from '../data/ratings.js';
import type { TrainedModel } from '../io/trained-model.js';
import { loadTrainedModel, saveTrainedModel } from '../io/trained-model.js';
import type { ModelKind } from '../models/model.js';
import { fitEase } from '../models/ease.js';
import { checkerboard, runCli } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { ALL_RECOMMENDATIONS_HEADER, writeAllRecommendations, type AllUsersRecommender } from './all-users.js';
import { EaseRecommender } from './ease-recommender.js';
import { ModelRecommender } from './recommender.js';

const tmp = mkdtempSync(join(tmpdir(), 'collab-all-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function trainedOf(kind: ModelKind): Promise<TrainedModel> {
  // 43 users: one block of 32, then 11 (two groups of four and three single users in the kernel)
  const { ratings, items } = checkerboard(43, 30, 0.6, 1);
  const learner = collabLearner(ratings, undefined, { model: kind, nFactors: 6, batchSize: 32, seed: 3, threads: 1 });
  await learner.fitOneCycle(3, 0.05);
  return { model: learner.model, train: ratings, items, history: { epochs: learner.history } };
}

/** The file's rows per user: [movieId, score] in rank order. */
function readRows(path: string): Map<string, [string, string][]> {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], ALL_RECOMMENDATIONS_HEADER);
  const byUser = new Map<string, [string, string][]>();
  for (const line of lines.slice(1)) {
    const [userId, rank, movieId, score] = line.split(',') as [string, string, string, string];
    const list = byUser.get(userId) ?? [];
    assert.equal(Number(rank), list.length + 1, `ranks of user ${userId} count from 1`);
    list.push([movieId, score]);
    byUser.set(userId, list);
  }
  return byUser;
}

/** Every user's rows equal recommendForUser's list (same movies, order and scores) and leave out their rated movies. */
async function assertMatchesPerUser(rec: AllUsersRecommender & { userRatings(u: number): { itemId: unknown }[] }, path: string, n: number, options = {}): Promise<void> {
  const written = await writeAllRecommendations(rec, path, { n, ...options });
  const rows = readRows(path);
  assert.equal(written.users, rec.info.nUsers);
  assert.equal(rows.size, rec.info.nUsers);
  for (const [userId, list] of rows) {
    const expected = rec.recommendForUser(Number(userId), { n, ...options });
    assert.deepEqual(list, expected.map((it) => [String(it.itemId), String(it.score)]), `user ${userId}`);
    const rated = new Set(rec.userRatings(Number(userId)).map((r) => String(r.itemId)));
    for (const [movieId] of list) assert.ok(!rated.has(movieId), `user ${userId} rated movie ${movieId}`);
  }
}

for (const kind of ['dot', 'dotbias', 'mf', 'hybrid'] as const) {
  test(`${kind}: the all-users file holds, per user, exactly what recommendForUser gives, rated movies left out`, async () => {
    const rec = new ModelRecommender(await trainedOf(kind), { minRatings: 0 });
    await assertMatchesPerUser(rec, join(tmp, `${kind}.csv`), 7);
    // the filters and the popularity blend apply as they do per user
    await assertMatchesPerUser(rec, join(tmp, `${kind}-filtered.csv`), 4, { minRatings: 20, popularityWeight: 0 });
  });
}

test('EASE: the all-users file holds, per user, exactly what recommendForUser gives', async () => {
  const { ratings, items } = checkerboard(40, 30, 0.6, 1);
  const rows: number[] = [];
  for (let r = 0; r < ratings.ratings.length; r++) if (ratings.ratings[r]! >= 4) rows.push(r);
  const train = selectRows(ratings, Int32Array.from(rows));
  const model = fitEase(train.users, train.items, train.userIds.size, train.itemIds.size, { lambda: 5 });
  const rec = new EaseRecommender({ model, train, items }, { minRatings: 0 });
  await assertMatchesPerUser(rec, join(tmp, 'ease.csv'), 5);
});

test('a failure part way leaves nothing under the target name and no temp file, and an older file untouched', async () => {
  const dir = mkdtempSync(join(tmp, 'atomic-'));
  const path = join(dir, 'recs.csv');
  const rec = new ModelRecommender(await trainedOf('dot'), { minRatings: 0 });
  let calls = 0;
  const failing: AllUsersRecommender = Object.assign(Object.create(rec) as ModelRecommender, {
    recommendAllUsers: (_options: object, onUser: (userId: number, items: []) => void) => {
      onUser(1, []);
      calls++;
      throw new Error('disk on fire');
    },
  }) as unknown as AllUsersRecommender;
  await assert.rejects(writeAllRecommendations(failing, path, { n: 3 }), /^Error: disk on fire$/);
  assert.equal(calls, 1);
  assert.equal(existsSync(path), false);
  assert.deepEqual(readdirSync(dir), []);
  writeFileSync(path, 'old\n');
  await assert.rejects(writeAllRecommendations(failing, path, { n: 3 }), /disk on fire/);
  assert.equal(readFileSync(path, 'utf8'), 'old\n');
  assert.deepEqual(readdirSync(dir), ['recs.csv']);
});

test('two threads (a worker loads the model file and lists the second half) write the same file as one', async () => {
  const trained = await trainedOf('dotbias');
  const modelPath = join(tmp, 'threads-model.json');
  saveTrainedModel(modelPath, trained);
  const rec = new ModelRecommender(loadTrainedModel(modelPath));
  const one = join(tmp, 'one.csv');
  const two = join(tmp, 'two.csv');
  const seen: number[] = [];
  await writeAllRecommendations(rec, one, { n: 5 });
  const written = await writeAllRecommendations(rec, two, { n: 5 }, { modelPath, threads: 2, onProgress: (done) => seen.push(done) });
  assert.equal(readFileSync(two, 'utf8'), readFileSync(one, 'utf8'));
  assert.deepEqual(written, { users: 43, rows: 43 * 5 });
  assert.equal(seen.at(-1), 43);
  await assert.rejects(writeAllRecommendations(rec, two, { n: 5 }, { threads: 2 }), /^CollabError: threads must be an integer from 1 to 1, got 2$/);
});

test('writeAllRecommendations under a node flag that workers refuse lists every user on one thread', async () => {
  const modelPath = join(tmp, 'flag-model.json');
  saveTrainedModel(modelPath, await trainedOf('dot'));
  const out = join(tmp, 'flag-recs.csv');
  const script = `import { writeAllRecommendations } from '${new URL('./all-users.js', import.meta.url).href}';
import { loadRecommender } from '${new URL('./load.js', import.meta.url).href}';
const rec = loadRecommender(${JSON.stringify(modelPath)});
const w = await writeAllRecommendations(rec, ${JSON.stringify(out)}, { n: 2 }, { modelPath: ${JSON.stringify(modelPath)}, threads: 2 });
console.log(JSON.stringify(w));`;
  const run = spawnSync(process.execPath, ['--no-liftoff', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.stderr, '');
  assert.deepEqual(JSON.parse(run.stdout), { users: 43, rows: 86 });
  assert.equal(readRows(out).size, 43);
});

test('collab recommend --all --out writes every user\'s list; bad flag combinations are refused', async () => {
  const modelPath = join(tmp, 'cli-model.json');
  saveTrainedModel(modelPath, await trainedOf('dotbias'));
  const out = join(tmp, 'cli-recs.csv');
  const r = runCli(['recommend', '--model', modelPath, '--all', '--out', out, '-n', '3', '--min-ratings', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.users, 43);
  assert.equal(r.json?.rows, 43 * 3);
  assert.equal(readRows(out).size, 43);
  const noOut = runCli(['recommend', '--model', modelPath, '--all']);
  assert.notEqual(noOut.status, 0);
  assert.match(noOut.stderr, /--all needs --out FILE \(the CSV to write\)/);
  const withUser = runCli(['recommend', '--model', modelPath, '--all', '--out', out, '--user', '1']);
  assert.match(withUser.stderr, /--all recommends for every user of the model; leave out --user and --ratings/);
  const outAlone = runCli(['recommend', '--model', modelPath, '--user', '1', '--out', out]);
  assert.match(outAlone.stderr, /--out goes with --all \(recommendations for every user\)/);
});
