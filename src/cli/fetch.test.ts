import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';

const home = mkdtempSync(join(tmpdir(), 'collab-fetch-cli-'));
const RATINGS = 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n';
const zip = zipSync({ 'ml-latest-small/ratings.csv': strToU8(RATINGS), 'ml-latest-small/README.txt': strToU8('terms') });
const SHA = createHash('sha256').update(zip).digest('hex');

let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ml-latest-small.zip') {
      res.writeHead(200, { 'Content-Length': zip.length });
      res.end(zip);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
  rmSync(home, { recursive: true, force: true });
});

// Runs `collab data fetch ...` through commander the way main.ts does (usage errors exit 2).
const RUNNER = `
import { Command, CommanderError } from 'commander';
import { registerFetchCommand } from ${JSON.stringify(new URL('./fetch.js', import.meta.url).href)};
const program = new Command('collab').exitOverride();
registerFetchCommand(program.command('data'));
try { await program.parseAsync(process.argv.slice(1), { from: 'user' }); }
catch (err) { if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2; else throw err; }
`;
const ROOT = new URL('../..', import.meta.url);

/** Runs the CLI in a child process (async, so this process's HTTP server keeps answering). */
function collab(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; json: Record<string, unknown> | undefined }> {
  const env: NodeJS.ProcessEnv = { ...process.env, COLLAB_HOME: home };
  delete env.COLLAB_DATA_DIR;
  const child = spawn(process.execPath, ['--input-type=module', '-e', RUNNER, 'data', 'fetch', ...args], { env, cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (status) => {
      const last = stdout.trim().split('\n').at(-1);
      let json: Record<string, unknown> | undefined;
      try {
        json = last ? (JSON.parse(last) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, stdout, stderr, json });
    });
  });
}

test('collab data fetch: downloads, unpacks, prints licence and citation; JSON result; second run finds it', async () => {
  const r = await collab('ml-latest-small', '--url', `${base}/ml-latest-small.zip`, '--sha256', SHA, '--json');
  assert.equal(r.status, 0, r.stderr);
  const folder = join(home, 'datasets', 'ml-latest-small');
  assert.equal(r.json?.status, 'fetched');
  assert.equal(r.json?.path, folder);
  assert.equal(r.json?.sha256, SHA);
  assert.equal(r.json?.verified, true);
  assert.equal(r.json?.files, 2);
  assert.equal(readFileSync(join(folder, 'ratings.csv'), 'utf8'), RATINGS);
  assert.match(r.stderr, /^fetched ml-latest-small \(0\.0 MB, sha256 [0-9a-f]{64} verified\) and unpacked 2 files into /m);
  assert.match(r.stderr, /^Licence: GroupLens licence: research use only, no commercial use without permission/m);
  assert.match(r.stderr, /^Full terms: .*README\.txt$/m);
  assert.match(r.stderr, /^Cite: F\. Maxwell Harper and Joseph A\. Konstan\. 2015\./m);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'only the JSON line on stdout');

  const again = await collab('ml-latest-small', '--url', `${base}/ml-latest-small.zip`);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^ml-latest-small is already at .*ml-latest-small; nothing downloaded \(use --force to fetch it again into the cache\)$/m);
  assert.match(again.stdout, /^Licence: /m);
});

test('collab data fetch errors: one stderr line; exit 1 for download problems, 2 for usage', async () => {
  const missing = await collab('ml-100k', '--url', `${base}/nothing.zip`);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.split('\n').length, 2, 'one line plus the final newline');
  assert.match(missing.stderr, new RegExp(`^collab: error: the server answered 404 Not Found for ${base}/nothing.zip`));

  const pinned = await collab('ml-100k', '--url', `${base}/ml-latest-small.zip`);
  assert.equal(pinned.status, 1);
  assert.match(pinned.stderr, /^collab: error: the download of ml-100k from .* has \d+ bytes but the release has 4924029/);

  const badSha = await collab('ml-100k', '--sha256', 'xyz');
  assert.equal(badSha.status, 2);
  assert.equal(badSha.stderr, 'collab: error: --sha256 must be 64 hex digits, got "xyz"\n');

  const unknown = await collab('ml-7m');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^collab: error: unknown dataset "ml-7m": collab can fetch ml-latest-small, /);

  const unpinned = await collab('ml-10m', '--url', `${base}/ml-10m.zip`);
  assert.equal(unpinned.status, 2);
  assert.match(unpinned.stderr, /^collab: error: collab has no pinned sha256 for ml-10m, so its download cannot be verified: pass --no-verify/);

  assert.ok(!existsSync(join(home, 'datasets', 'ml-100k')));
  assert.deepEqual(readdirSync(join(home, 'datasets')).filter((e) => e.startsWith('.')), []);
});
