import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readModelManifest } from '../io/model-file.js';
import { saveTrainedModel } from '../io/trained-model.js';
import { checkerboard } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'collab-serve-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('collab serve: JSON request logs with latency, SIGHUP keeps the model when the file is bad, SIGTERM drains with health 503', { timeout: 60_000 }, async () => {
  const { ratings, items } = checkerboard();
  const learner = collabLearner(ratings, undefined, { nFactors: 4, batchSize: 32, seed: 3 });
  await learner.fitOneCycle(3, 0.05);
  const model = join(tmp, 'model.json');
  saveTrainedModel(model, { model: learner.model, train: ratings, items, history: { epochs: [] } });
  const child = spawn(process.execPath, [MAIN, 'serve', '--model', model, '--db', join(tmp, 'db.sqlite'), '--port', '0', '--log', 'json', '--drain', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  const stdout = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const logLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => logLines.push(l));
  const nextLine = async (match: RegExp): Promise<string> => {
    for (;;) {
      const { value, done } = await stdout.next();
      if (done) throw new Error(`the server stopped before printing ${match}; stderr: ${logLines.join('\n')}`);
      if (match.test(value as string)) return value as string;
    }
  };
  try {
    const url = /on (http:\/\/\S+)/.exec(await nextLine(/^collab serving/))![1]!;
    const version = async () => ((await (await fetch(`${url}/api/model`)).json()) as { version: { sha256: string } }).version.sha256;
    assert.equal((await fetch(`${url}/api/health`)).status, 200);
    assert.equal((await fetch(`${url}/api/users/1/recommendations?n=3`)).status, 200);
    const served = await version();

    // the log is written asynchronously: wait for the request's line instead of reading once (bounded, not a timing check)
    const requestLogs = (): Record<string, unknown>[] => logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    const waitUntil = Date.now() + 20_000;
    while (!requestLogs().some((l) => l.route === '/api/users/:id/recommendations') && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
    const rec = requestLogs().find((l) => l.route === '/api/users/:id/recommendations');
    assert.ok(rec, `no request log line for the recommendations; stderr: ${logLines.join('\n')}`);
    assert.equal(rec.method, 'GET');
    assert.equal(rec.url, '/api/users/1/recommendations?n=3');
    assert.equal(rec.statusCode, 200);
    assert.equal(typeof rec.responseTime, 'number');
    assert.equal(rec.level, 30);
    assert.ok(!requestLogs().some((l) => l.route === '/api/health'), 'a successful health check is not logged');

    const weights = join(tmp, readModelManifest(model).weights.file);
    truncateSync(weights, statSync(weights).size - 4);
    child.kill('SIGHUP');
    assert.match(await nextLine(/^SIGHUP/), /^SIGHUP: kept the served model: .*weights file is truncated/);
    assert.equal(await version(), served);
    assert.equal((await fetch(`${url}/api/users/1/recommendations?n=3`)).status, 200);

    child.kill('SIGTERM');
    assert.equal(await nextLine(/^SIGTERM/), 'SIGTERM: draining for 1 s (health 503), then finishing in-flight requests and closing the database');
    const health = await fetch(`${url}/api/health`);
    assert.equal(health.status, 503);
    assert.equal((await fetch(`${url}/api/movies?limit=1`)).status, 200, 'other requests are still served while draining');
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
