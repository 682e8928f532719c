/**
 * Load benchmark of the HTTP service over loopback with autocannon: requests/s and p50/p99 latency of
 * (1) GET /api/users/:id/recommendations for known users and (2) POST /api/recommendations (anonymous
 * fold-in of 10 ratings), at a fixed number of connections, each bounded by time and request count.
 * The server runs in a child process so the load generator does not share its event loop.
 *
 * Run: `npm run build && node dist/bench/serve-load.js [--model FILE] [--connections 10] [--seconds 5] [--max 20000] [--db FILE|URL]`.
 * Without --model it serves the TEST recommender (random factors) shaped like ml-latest-small:
 * 610 users × 9,724 movies × 50 factors with ~100k training ratings in SQLite.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parseArgs } from 'node:util';
import { loadRecommender } from '../recommend/load.js';
import type { Recommender } from '../recommend/types.js';
import { startServer } from '../server/start.js';
import { makeFactorRecommender, syntheticCatalogue, type FactorRecommender } from '../server/testing/factor-recommender.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    db: { type: 'string' },
    connections: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    max: { type: 'string', default: '20000' },
    child: { type: 'boolean', default: false },
  },
});

/** The recommender under test: the model file when given, else the ml-latest-small-shaped test one. */
async function recommender(): Promise<Recommender | FactorRecommender> {
  if (args.model !== undefined) return loadRecommender(args.model);
  return makeFactorRecommender({ movies: syntheticCatalogue(9724), nUsers: 610, nFactors: 50, ratingsPerUser: 165, seed: 0 });
}

/** Child: start the server, tell the parent its URL, serve until told to stop. */
async function child(): Promise<void> {
  const rec = await recommender();
  const initial = 'trainingRatings' in rec ? () => rec.trainingRatings().map((r) => ({ userId: r.userId, movieId: r.itemId, rating: r.rating })) : undefined;
  const server = await startServer({ recommender: rec, db: args.db!, port: 0, ...(initial ? { initialRatings: initial } : {}) });
  const users: number[] = [];
  for (let u = 1; users.length < 200 && u < 100_000; u++) if (rec.hasUser(u)) users.push(u);
  const movies = rec.movies().slice(0, 2000).map((m) => m.itemId);
  process.send!({ url: server.url, users, movies, kind: rec.info.kind, nItems: rec.info.nItems, nUsers: rec.info.nUsers });
  process.on('message', async () => {
    await server.close();
    process.exit(0);
  });
}

interface Figures {
  label: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

async function load(label: string, url: string, requests: autocannon.Request[]): Promise<Figures> {
  const connections = Number(args.connections);
  // duration bounds the time, maxOverallRequests the count (amount would override the duration)
  const r = await autocannon({ url, connections, duration: Number(args.seconds), maxOverallRequests: Number(args.max), requests });
  return { label, requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, errors: r.errors, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  if (args.child) return child();
  const dir = args.db === undefined ? mkdtempSync(join(tmpdir(), 'collab-bench-')) : undefined;
  const db = args.db ?? join(dir!, 'bench.sqlite');
  const proc = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--child', '--db', db], { stdio: 'inherit' });
  const info = await new Promise<{ url: string; users: number[]; movies: (number | string)[]; kind: string; nItems: number; nUsers: number }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as never));
    proc.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  try {
    console.log(`collab serve load: ${info.kind}, ${info.nUsers} users × ${info.nItems} movies, ${args.connections} connections, ≤ ${args.seconds} s or ${args.max} requests per run, node ${process.version}`);
    const userReqs: autocannon.Request[] = info.users.map((u) => ({ method: 'GET', path: `/api/users/${u}/recommendations?n=10` }));
    // ten distinct ratings per anonymous visitor, cycling through the catalogue
    const foldReqs: autocannon.Request[] = Array.from({ length: 100 }, (_, v) => ({
      method: 'POST',
      path: '/api/recommendations?n=10',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 10 }, (_, t) => ({ movieId: info.movies[(v * 17 + t * 101) % info.movies.length], rating: 1 + ((v + t) % 9) / 2 }))),
    }));
    await load('warm-up', info.url, userReqs.slice(0, 20));
    const rows = [await load('GET /api/users/:id/recommendations (known user)', info.url, userReqs), await load('POST /api/recommendations (fold-in, 10 ratings)', info.url, foldReqs)];
    for (const r of rows) {
      console.log(`${r.label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, ${r.requests} requests, ${r.errors} errors, ${r.non2xx} non-2xx`);
    }
    const ok = rows.every((r) => r.p99 < 50 && r.rps >= 500 && r.errors === 0 && r.non2xx === 0);
    console.log(ok ? 'goal met: p99 < 50 ms at >= 500 req/s' : 'goal NOT met: p99 < 50 ms at >= 500 req/s');
  } finally {
    proc.send('stop');
    await new Promise((r) => proc.once('exit', r));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
