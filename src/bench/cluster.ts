/**
 * Load benchmark of collab as replicas behind haproxy (scripts/cluster.sh): requests/s and p50/p99
 * latency of known-user recommendations (GET /api/users/:id/recommendations) and visitor
 * recommendations (POST /api/recommendations, fold-in of 10 ratings) for one replica alone, one replica
 * through the balancer and two replicas through the balancer, printed as a table. autocannon runs in
 * this process, on the same machine as the replicas and the balancer; every run is bounded by time and
 * by request count.
 *
 * Run: `npm run build && npm run bench:cluster -- --model model.json --db postgres://... [--data ml-latest-small]
 * [--connections 10] [--seconds 5] [--max 20000] [--port 18080]`. The replicas use a fresh schema of that
 * database (dropped at the end); --data imports the training ratings into it first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadRecommender } from '../recommend/load.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    db: { type: 'string', default: process.env.COLLAB_TEST_PG_URL },
    data: { type: 'string' },
    connections: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    max: { type: 'string', default: '20000' },
    port: { type: 'string', default: '18080' },
  },
});

const SCRIPT = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));

interface Row {
  setup: string;
  request: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, requests: autocannon.Request[]): Promise<autocannon.Result> {
  // duration bounds the time, maxOverallRequests the count
  return autocannon({ url, connections: Number(args.connections), duration: Number(args.seconds), maxOverallRequests: Number(args.max), requests });
}

async function sql(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: args.db });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  if (args.model === undefined || args.db === undefined) {
    console.error('usage: npm run bench:cluster -- --model model.json --db postgres://... [--data ml-latest-small]');
    process.exit(2);
  }
  const rec = loadRecommender(args.model);
  const users: number[] = [];
  for (let u = 1; users.length < 200 && u < 1_000_000; u++) if (rec.hasUser(u)) users.push(u);
  const movies = rec.movies().slice(0, 2000).map((m) => m.itemId);
  const userReqs: autocannon.Request[] = users.map((u) => ({ method: 'GET', path: `/api/users/${u}/recommendations?n=10` }));
  const visitorReqs: autocannon.Request[] = Array.from({ length: 100 }, (_, v) => ({
    method: 'POST',
    path: '/api/recommendations?n=10',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(Array.from({ length: 10 }, (_, t) => ({ movieId: movies[(v * 17 + t * 101) % movies.length], rating: 1 + ((v + t) % 9) / 2 }))),
  }));

  const schema = `collab_bench_${process.pid}`;
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const db = `${args.db}${args.db.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const state = mkdtempSync(join(tmpdir(), 'collab-bench-cluster-'));
  const env = { ...process.env, COLLAB_CLUSTER_DIR: state };
  const port = Number(args.port);
  const cluster = (...a: string[]) => execFileSync('bash', [SCRIPT, ...a], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const rows: Row[] = [];
  const measure = async (setup: string, url: string) => {
    await load(url, userReqs.slice(0, 20)); // warm-up
    for (const [request, reqs] of [['known user', userReqs], ['visitor (fold-in, 10 ratings)', visitorReqs]] as const) {
      const r = await load(url, reqs);
      rows.push({ setup, request, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx });
    }
  };
  try {
    console.log(`collab bench:cluster: ${rec.info.kind}, ${rec.info.nUsers} users × ${rec.info.nItems} movies, ${args.connections} connections, ≤ ${args.seconds} s or ${args.max} requests per run, node ${process.version}`);
    cluster('start', '1', '--model', args.model, '--db', db, '--port', String(port), ...(args.data ? ['--data', args.data] : []));
    await measure('1 replica alone', `http://127.0.0.1:${port + 1}`);
    await measure('1 replica, haproxy', `http://127.0.0.1:${port}`);
    cluster('stop');
    cluster('start', '2', '--model', args.model, '--db', db, '--port', String(port));
    await measure('2 replicas, haproxy', `http://127.0.0.1:${port}`);
  } finally {
    cluster('stop');
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    rmSync(state, { recursive: true, force: true });
  }
  console.log('\n| setup | request | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.setup} | ${r.request} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} |`);
  const known = rows.filter((r) => r.request === 'known user');
  const best = known.reduce((a, b) => (b.rps > a.rps ? b : a));
  const met = known.some((r) => r.p99 < 20 && r.rps >= 1000);
  console.log(`\ngoal (known users: p99 < 20 ms at >= 1,000 req/s): ${met ? 'met' : 'NOT met'}; best ${best.rps.toFixed(0)} req/s at p99 ${best.p99} ms (${best.setup})`);
}

await main();
