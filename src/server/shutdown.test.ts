import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { sqliteTestDatabase } from './testing/databases.js';

const FIXTURE = fileURLToPath(new URL('./testing/shutdown-fixture.js', import.meta.url));

test('SIGTERM: stops accepting, finishes the in-flight write, closes the database, exits 0', { timeout: 30_000 }, async () => {
  const db = sqliteTestDatabase();
  const child = spawn(process.execPath, [FIXTURE, db.db, '400'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    const lines = createInterface({ input: child.stdout });
    const iter = lines[Symbol.asyncIterator]();
    const { url } = JSON.parse((await iter.next()).value as string) as { url: string };
    const write = fetch(`${url}/api/users/42/ratings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ movieId: 1, rating: 4.5 }) });
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const res = await write;
    assert.equal(res.status, 201, 'the write that was in flight when the signal came finished');
    assert.deepEqual(JSON.parse((await iter.next()).value as string), { closed: 'SIGTERM' });
    const [code] = await exited;
    assert.equal(code, 0);
    await assert.rejects(fetch(`${url}/api/health`), 'no longer accepting connections');
    const store = await db.open();
    assert.deepEqual((await store.userRatings(42)).map((r) => [r.movieId, r.rating, r.source]), [[1, 4.5, 'api']]);
    await store.close();
  } finally {
    child.kill('SIGKILL');
    await db.dispose();
  }
});
