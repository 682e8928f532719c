import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import autocannon from 'autocannon';
import type { ItemMeta } from '../data/ratings.js';
import { readModelManifest } from '../io/model-file.js';
import { saveTrainedModel, type TrainedModel } from '../io/trained-model.js';
import { loadRecommender } from '../recommend/load.js';
import { checkerboard } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { modelFileVersion, reloadOnSighup } from './reload.js';
import { startServer, type RunningServer } from './start.js';
import { sqliteTestDatabase } from './testing/databases.js';

const TOKEN = 'reload-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };
const tmp = mkdtempSync(join(tmpdir(), 'collab-reload-'));
const modelPath = join(tmp, 'model.json');
const db = sqliteTestDatabase();
let first: TrainedModel;
let second: TrainedModel;
let server: RunningServer;

async function train(seed: number, items?: Map<number, ItemMeta>): Promise<TrainedModel> {
  const data = checkerboard();
  const learner = collabLearner(data.ratings, undefined, { nFactors: 4, batchSize: 32, wd: 0.01, seed });
  await learner.fitOneCycle(5, 0.05);
  return { model: learner.model, train: data.ratings, items: items ?? data.items, history: { epochs: learner.history } };
}

async function servedVersion(): Promise<string> {
  return ((await server.app.inject('/api/model')).json() as { version: { sha256: string } }).version.sha256;
}

before(async () => {
  first = await train(3);
  second = await train(4);
  saveTrainedModel(modelPath, first);
  const rec = loadRecommender(modelPath, { minRatings: 0 });
  server = await startServer({ recommender: rec, db: db.db, port: 0, token: TOKEN, modelPath, app: { webRoot: join(tmp, 'no-web') } });
});
after(async () => {
  await server.close();
  await db.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('POST /api/model/reload', () => {
  test('needs the bearer token: 401 without it, 403 when wrong, 403 when the server has none', async () => {
    const none = await server.app.inject({ method: 'POST', url: '/api/model/reload' });
    assert.equal(none.statusCode, 401);
    const wrong = await server.app.inject({ method: 'POST', url: '/api/model/reload', headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.statusCode, 403);
    const open = await startServer({ recommender: server.app.models.current.recommender, db: db.db, port: 0, modelPath, app: { webRoot: join(tmp, 'no-web') } });
    try {
      const r = await open.app.inject({ method: 'POST', url: '/api/model/reload', headers: auth });
      assert.equal(r.statusCode, 403);
      assert.deepEqual(r.json(), { error: { code: 'FORBIDDEN', message: 'model reload is off: start the server with --token (or $COLLAB_TOKEN), or send it SIGHUP', field: 'authorization' } });
    } finally {
      await open.close();
    }
  });

  test('/api/model reports the served file as its version: sha256 of the manifest and load time', async () => {
    const m = (await server.app.inject('/api/model')).json() as { version: { sha256: string; loadedAt: string } };
    assert.equal(m.version.sha256, modelFileVersion(modelPath).sha256);
    assert.ok(!Number.isNaN(Date.parse(m.version.loadedAt)));
  });

  test('a damaged model file is refused with 422 and the replica keeps serving the old model', async () => {
    const before = await servedVersion();
    saveTrainedModel(modelPath, second);
    const weights = join(tmp, readModelManifest(modelPath).weights.file);
    truncateSync(weights, statSync(weights).size - 8);
    const r = await server.app.inject({ method: 'POST', url: '/api/model/reload', headers: auth });
    assert.equal(r.statusCode, 422);
    const body = r.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'MODEL_REJECTED');
    assert.match(body.error.message, /weights file is truncated.*; still serving the previous model$/);
    assert.equal(await servedVersion(), before);
    assert.equal((await server.app.inject('/api/users/1/recommendations')).statusCode, 200);
  });

  test('a model of another catalogue is refused with 409 naming the first movie that differs', async () => {
    const before = await servedVersion();
    const renamed = new Map([...first.items].map(([id, m]) => [id as number, { ...m, title: `Other ${id}` }]));
    saveTrainedModel(modelPath, await train(5, renamed));
    const r = await server.app.inject({ method: 'POST', url: '/api/model/reload', headers: auth });
    assert.equal(r.statusCode, 409);
    assert.deepEqual(r.json(), {
      error: {
        code: 'CATALOGUE_MISMATCH',
        message: 'movie 101 is "Other 101" in the new model but "Movie 101 (1990)" in the served one (30 of 30 shared movies differ); the new model was trained on another dataset — train it on this service\'s database (collab train --db); still serving the previous model',
        field: 'model',
      },
    });
    assert.equal(await servedVersion(), before);
  });

  test('a good model swaps in under load with zero failed requests', async () => {
    saveTrainedModel(modelPath, second);
    const want = modelFileVersion(modelPath).sha256;
    // known users (each scored by the model when first asked) and visitors (a fold-in every time)
    const requests: autocannon.Request[] = Array.from({ length: 40 }, (_, u) =>
      u % 4 === 3
        ? { method: 'POST', path: '/api/recommendations?n=5', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ movieId: 101 + (u % 30), rating: 5 }, { movieId: 130 - (u % 10), rating: 1 }]) }
        : { method: 'GET', path: `/api/users/${u + 1}/recommendations?n=5` },
    );
    let finished = false;
    let instance!: autocannon.Instance;
    const run = new Promise<autocannon.Result>((resolve, reject) => {
      instance = autocannon({ url: server.url, connections: 4, amount: 1000, requests }, (err: unknown, result: autocannon.Result) => {
        finished = true;
        if (err) reject(err as Error);
        else resolve(result);
      });
    });
    // reload once the run is under way: it is bounded by its request count, not by time
    let answered = 0;
    await new Promise<void>((resolve) => {
      instance.on('response', () => {
        if (++answered === 100) resolve();
      });
    });
    const reloaded = await fetch(`${server.url}/api/model/reload`, { method: 'POST', headers: auth });
    assert.equal(reloaded.status, 200);
    assert.equal(finished, false, 'the swap happened while the run was in flight');
    assert.equal(((await reloaded.json()) as { version: { sha256: string } }).version.sha256, want);
    const result = await run;
    assert.equal(result.errors, 0);
    assert.equal(result.non2xx, 0);
    assert.equal(result.requests.sent, 1000);
    assert.equal(await servedVersion(), want);
  });

  test('SIGHUP reloads the file and logs the new version', async () => {
    saveTrainedModel(modelPath, first);
    const want = modelFileVersion(modelPath).sha256;
    const logged = new Promise<string>((resolve) => {
      const stop = reloadOnSighup(server.app.models, (line) => {
        stop();
        resolve(line);
      });
    });
    process.emit('SIGHUP', 'SIGHUP');
    assert.equal(await logged, `SIGHUP: now serving dotbias model ${want.slice(0, 12)} from ${modelPath}`);
    assert.equal(await servedVersion(), want);
  });
});

test('draining: /api/health answers 503 so a balancer stops sending, other routes still answer', async () => {
  const d = sqliteTestDatabase();
  const s = await startServer({ recommender: server.app.models.current.recommender, db: d.db, port: 0, app: { webRoot: join(tmp, 'no-web') } });
  try {
    assert.equal((await s.app.inject('/api/health')).statusCode, 200);
    s.app.drain();
    const h = await s.app.inject('/api/health');
    assert.equal(h.statusCode, 503);
    assert.deepEqual(h.json(), { status: 'draining' });
    assert.equal((await s.app.inject('/api/movies')).statusCode, 200);
  } finally {
    await s.close();
    await d.dispose();
  }
});
