/**
 * The service under a mixed load while its PostgreSQL server restarts (`npm run test:faults`; .ci/run
 * runs it after `npm test`). Reads, writes and recommendations run for $COLLAB_FAULT_SECONDS
 * (default 20); a third of the way in the database is stopped, and started again a sixth later.
 * Asserts: every acknowledged (2xx) write is in the database afterwards, no 5xx but 503 (and 503 only
 * while the database is away), no request hangs, and the heap after the run is within 64 MB of the
 * heap after warm-up. Prints the figures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import type { RawId } from '../data/id-map.js';
import { startServer } from './start.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';
import { PG_CLUSTER_SKIP, PgCluster } from './testing/pg-cluster.js';

const SECONDS = Number(process.env.COLLAB_FAULT_SECONDS ?? '20');
/** Requests in flight at once. */
const WORKERS = 8;
/** A request not answered in this long counts as hung. */
const HANG_MS = 30_000;
/** After the database is back, 503s may go on this long while the pool replaces its dead connections. */
const GRACE_MS = 3_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection, in MB. */
function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** One rating write of the load. */
interface Write {
  userId: number;
  movieId: RawId;
  rating: number;
}

if (PG_CLUSTER_SKIP) console.log(`# ${PG_CLUSTER_SKIP}`);

test(`mixed load for ${SECONDS} s with a PostgreSQL restart in the middle`, { skip: PG_CLUSTER_SKIP, timeout: (SECONDS + 120) * 1000 }, async () => {
  assert.ok(Number.isFinite(SECONDS) && SECONDS >= 3, `COLLAB_FAULT_SECONDS must be a number >= 3, got ${process.env.COLLAB_FAULT_SECONDS}`);
  const rec = makeFactorRecommender({ seed: 3 });
  const movies = rec.movies().map((m) => m.itemId);
  const users = [...new Set(rec.trainingRatings().map((r) => r.userId))];
  const cluster = await PgCluster.start();
  const server = await startServer({
    recommender: rec,
    db: cluster.url,
    port: 0,
    initialRatings: () => rec.trainingRatings().map((r) => ({ userId: r.userId, movieId: r.itemId, rating: r.rating })),
  });
  try {
    const statuses = new Map<string, number>();
    const bad: string[] = [];
    const acked: Write[] = [];
    let nextUser = 1_000_000;
    let outage: { from: number; to: number } | undefined;
    let stopAt = Infinity;
    const start = Date.now();
    const end = start + SECONDS * 1000;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

    /** One random request; returns its status (or 'hung'/'error'). */
    async function one(): Promise<void> {
      const roll = Math.random();
      const sentAt = Date.now();
      let kind: string;
      let init: RequestInit = {};
      let path: string;
      let write: Write | undefined;
      if (roll < 0.3) {
        // each write is a new (user, movie), so every acknowledged one must be found as written
        const w: Write = { userId: nextUser++, movieId: pick(movies), rating: pick([0.5, 1, 2.5, 3, 4.5, 5]) };
        write = w;
        kind = 'write';
        path = `/api/users/${w.userId}/ratings`;
        init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ movieId: w.movieId, rating: w.rating }) };
      } else if (roll < 0.45) {
        kind = 'recommend';
        path = `/api/users/${pick(users)}/recommendations?n=5`;
      } else if (roll < 0.6) {
        kind = 'fold-in';
        path = '/api/recommendations?n=5';
        init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ movieId: pick(movies), rating: 5 }]) };
      } else if (roll < 0.8) {
        kind = 'search';
        path = `/api/movies?q=${pick(['the', 'toy', 'star', 'a'])}&limit=10`;
      } else if (roll < 0.9) {
        kind = 'similar';
        path = `/api/movies/${pick(movies)}?n=5`;
      } else {
        kind = 'ratings';
        path = `/api/users/${pick(users)}/ratings`;
      }
      let status: string;
      try {
        const r = await fetch(server.url + path, { ...init, signal: AbortSignal.timeout(HANG_MS) });
        await r.arrayBuffer();
        status = String(r.status);
        if (r.status >= 200 && r.status < 300 && write) acked.push(write);
        const late = outage !== undefined && sentAt > outage.to + GRACE_MS;
        if (r.status === 503 && !(sentAt >= stopAt - 1_000 && !late)) bad.push(`${kind} ${path}: 503 outside the outage`);
        if (r.status >= 500 && r.status !== 503) bad.push(`${kind} ${path}: ${r.status}`);
      } catch (err) {
        status = (err as Error).name === 'TimeoutError' ? 'hung' : 'error';
        bad.push(`${kind} ${path}: ${status} (${(err as Error).message})`);
      }
      statuses.set(`${kind} ${status}`, (statuses.get(`${kind} ${status}`) ?? 0) + 1);
    }

    async function worker(): Promise<void> {
      while (Date.now() < end) await one();
    }

    // warm up, then take the heap figure the end is compared with
    for (let k = 0; k < 200; k++) await one();
    const heapStart = heapMb();
    const rssStart = process.memoryUsage().rss / 2 ** 20;

    const faults = (async () => {
      await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3));
      stopAt = Date.now();
      await cluster.stop();
      await new Promise((r) => setTimeout(r, Math.max(2_000, (SECONDS * 1000) / 6)));
      await cluster.restart();
      outage = { from: stopAt, to: Date.now() };
    })();
    await Promise.all([faults, ...Array.from({ length: WORKERS }, worker)]);
    const heapEnd = heapMb();
    const rssEnd = process.memoryUsage().rss / 2 ** 20;

    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    const stored = new Map<string, number>();
    try {
      const rows = (await client.query("SELECT user_id, movie_id, rating FROM ratings WHERE source = 'api'")).rows as { user_id: string; movie_id: string; rating: number }[];
      for (const r of rows) stored.set(`${r.user_id}/${r.movie_id}`, Number(r.rating));
    } finally {
      await client.end();
    }
    const lost = acked.filter((w) => stored.get(`${w.userId}/${w.movieId}`) !== w.rating);

    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`${SECONDS} s, ${WORKERS} at once: ${total} requests; database away ${((outage!.to - outage!.from) / 1000).toFixed(1)} s`);
    for (const [k, n] of [...statuses].sort()) console.log(`  ${k}: ${n}`);
    console.log(`acknowledged writes ${acked.length}, found ${acked.length - lost.length}, lost ${lost.length}; heap after warm-up ${heapStart.toFixed(1)} MB, at the end ${heapEnd.toFixed(1)} MB (RSS ${rssStart.toFixed(0)} -> ${rssEnd.toFixed(0)} MB)`);

    assert.deepEqual(lost, [], 'every acknowledged write is in the database');
    assert.deepEqual(bad.slice(0, 20), [], `${bad.length} requests failed outside the rules`);
    assert.ok([...statuses.keys()].some((k) => k.endsWith(' 503')), 'the outage was seen (some 503s)');
    assert.ok(acked.length > 0, 'some writes were acknowledged');
    assert.ok(heapEnd - heapStart < 64, `the heap grew from ${heapStart.toFixed(1)} MB to ${heapEnd.toFixed(1)} MB`);
  } finally {
    await server.close();
    await cluster.dispose();
  }
});
