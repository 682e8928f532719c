import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { saveTrainedModel } from '../io/trained-model.js';
import { checkerboard } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { PG_URL } from './testing/databases.js';

/**
 * Two `collab serve` replicas over one PostgreSQL database behind haproxy, started and stopped by
 * scripts/cluster.sh exactly as the README's recipe does.
 */
const SCRIPT = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));
const HAVE_HAPROXY = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).status === 0;
const SKIP: string | false =
  PG_URL === undefined || PG_URL === ''
    ? 'set COLLAB_TEST_PG_URL to run the replica test (.ci/run sets it)'
    : !HAVE_HAPROXY
      ? 'install haproxy (apt-get install haproxy) to run the replica test (.ci/run installs it)'
      : false;
if (SKIP) process.stderr.write(`!!! SKIPPED src/server/cluster.test.ts (replicas behind haproxy): ${SKIP}\n`);

// nothing is created when the test skips
const tmp = SKIP ? tmpdir() : mkdtempSync(join(tmpdir(), 'collab-cluster-'));
const schema = `collab_cluster_${process.pid}`;
const env = { ...process.env, COLLAB_CLUSTER_DIR: join(tmp, 'state') };
let balancer = '';

/** A port p such that p..p+n are all free (the balancer and its replicas). */
async function freePorts(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let p = base; p <= base + n && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error('no free ports');
}

async function sql(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

before(async () => {
  if (SKIP) return;
  const { ratings, items } = checkerboard();
  const learner = collabLearner(ratings, undefined, { nFactors: 4, batchSize: 32, seed: 3 });
  await learner.fitOneCycle(5, 0.05);
  const model = join(tmp, 'model.json');
  saveTrainedModel(model, { model: learner.model, train: ratings, items, history: { epochs: [] } });
  const data = join(tmp, 'ratings.csv');
  writeFileSync(data, 'userId,movieId,rating\n' + Array.from(ratings.ratings, (v, t) => `${String(ratings.userIds.idOf(ratings.users[t]!))},${String(ratings.itemIds.idOf(ratings.items[t]!))},${v}`).join('\n') + '\n');
  // the replicas share one schema of the test server, named by the URL's search_path
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const db = `${PG_URL}${PG_URL!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const port = await freePorts(2);
  execFileSync('bash', [SCRIPT, 'start', '2', '--model', model, '--db', db, '--port', String(port), '--data', data], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  balancer = `http://127.0.0.1:${port}`;
});

after(async () => {
  if (SKIP) return;
  execFileSync('bash', [SCRIPT, 'stop'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  rmSync(tmp, { recursive: true, force: true });
});

interface Recs {
  method: string;
  ratingsUsed: number;
  items: { movieId: number }[];
}

/** GETs through the balancer until both replicas have answered; their answers by replica name. */
async function fromEveryReplica(path: string): Promise<Map<string, Recs>> {
  const seen = new Map<string, Recs>();
  for (let t = 0; t < 10 && seen.size < 2; t++) {
    const r = await fetch(balancer + path);
    assert.equal(r.status, 200);
    seen.set(String(r.headers.get('x-collab-replica')), (await r.json()) as Recs);
  }
  assert.deepEqual([...seen.keys()].sort(), ['r1', 'r2'], 'the balancer sends to both replicas');
  return seen;
}

test('a rating stored through one replica changes the next recommendations from every replica', { skip: SKIP, timeout: 60_000 }, async () => {
  const before = await fromEveryReplica('/api/users/1/recommendations?n=5');
  assert.deepEqual(before.get('r1'), before.get('r2'));
  assert.equal(before.get('r1')!.method, 'model');
  const top = before.get('r1')!.items[0]!.movieId;

  const rated = await fetch(`${balancer}/api/users/1/ratings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ movieId: top, rating: 1 }) });
  assert.equal(rated.status, 201);
  const writer = rated.headers.get('x-collab-replica');
  assert.ok(writer === 'r1' || writer === 'r2');

  const after = await fromEveryReplica('/api/users/1/recommendations?n=5');
  for (const [replica, recs] of after) {
    assert.equal(recs.method, 'fold-in', `${replica} sees the new rating (written through ${writer})`);
    assert.ok(!recs.items.some((m) => m.movieId === top), `${replica} no longer recommends the movie just rated`);
  }
  assert.deepEqual(after.get('r1'), after.get('r2'));
});

test('every replica reports the same model version and the balancer health-checks them', { skip: SKIP }, async () => {
  const versions = new Set<string>();
  for (let t = 0; t < 4; t++) versions.add(((await (await fetch(`${balancer}/api/model`)).json()) as { version: { sha256: string } }).version.sha256);
  assert.equal(versions.size, 1);
  const health = await fetch(`${balancer}/api/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { db: { kind: string } }).db.kind, 'postgres');
});

test('a replica stopped with SIGTERM drains: requests through the balancer keep succeeding until it has exited', { skip: SKIP, timeout: 60_000 }, async () => {
  const pid = Number(readFileSync(join(env.COLLAB_CLUSTER_DIR, 'replica-2.pid'), 'utf8'));
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  process.kill(pid, 'SIGTERM');
  const statuses = new Map<number, number>();
  let requests = 0;
  // the run is bounded by the replica's exit (its drain lasts 2 s), not by a clock of ours
  while (alive()) {
    const r = await fetch(`${balancer}/api/users/${(requests % 40) + 1}/recommendations?n=3`);
    await r.arrayBuffer();
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    requests++;
  }
  assert.ok(requests > 0);
  assert.deepEqual([...statuses.keys()], [200], `every request answered 200 (${JSON.stringify([...statuses])})`);
  const after = await fetch(`${balancer}/api/health`);
  assert.equal(after.status, 200);
  assert.equal(after.headers.get('x-collab-replica'), 'r1', 'the remaining replica serves');
});
