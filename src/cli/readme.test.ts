/**
 * The README walk-through: every fenced `sh` command of the Quick start, Command line and Service
 * sections, then the Library example as a script, run in order in one temp folder against the built CLI,
 * as a reader would type them. A command that exits non-zero fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const main = join(root, 'dist', 'cli', 'main.js');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const dataDir = process.env.COLLAB_DATA_DIR;
const pgUrl = process.env.COLLAB_TEST_PG_URL;
const NEEDED = ['ml-100k/u.data', 'ml-100k/u1.base', 'ml-latest-small/ratings.csv'];
const missing = dataDir === undefined ? 'COLLAB_DATA_DIR is not set' : NEEDED.filter((f) => !existsSync(join(dataDir, f))).map((f) => `${f} is missing`)[0];

/**
 * Commands the walk-through does not run, each with the reason it prints. `unlessEnv` names a variable
 * whose presence makes the command run after all. Commands other branches add that need the network, a
 * service or a secret get a row here.
 */
const SKIP: { match: RegExp; why: string; unlessEnv?: string }[] = [
  // reinstalling node_modules needs the npm registry, and would rewrite the tree under test
  { match: /^npm ci\b/, why: 'reinstalls the dependencies from the npm registry (network)' },
  // the suite is what runs this test
  { match: /^npm test\b/, why: 'runs the whole test suite, this test included' },
  // the README's PostgreSQL URL is an example; COLLAB_TEST_PG_URL names a real one to run it against
  { match: /postgres:\/\//, why: 'needs a PostgreSQL server: set COLLAB_TEST_PG_URL to run it', unlessEnv: 'COLLAB_TEST_PG_URL' },
  // a secret is the reader's own; src/cli/serve.test.ts and the bad-input corpus cover --token-file
  { match: /--token-file secrets\//, why: 'reads a token file of your own' },
  // the walk-through runs on the tree the suite has just built
  { match: /^npm run build\b/, why: 'the suite runs on the tree it has just built' },
  // a cluster needs haproxy and PostgreSQL; src/server/cluster.test.ts drives this script for real
  { match: /^scripts\/cluster\.sh\b/, why: 'starts haproxy and replicas over PostgreSQL (src/server/cluster.test.ts runs it)' },
  // the walk-through stops each server after one question; the API answers are checked by src/server/*.test.ts
  { match: /^curl\b/, why: 'asks a server that the walk-through does not keep running (the API tests cover these answers)' },
];

/** A command still running after this long is a hang, not a slow machine (a generous bound, not a timing check). */
const COMMAND_LIMIT_MS = 300_000;

/** Commands that serve until stopped: started, asked one question, stopped. */
const LONG_RUNNING = /^(npx collab serve|npm start)\b/;

/** The fenced blocks of one `## Section` of the README, by language. */
function blocks(section: string, lang: string): string[] {
  const start = readme.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `README has no "## ${section}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const body = readme.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** Shell words of one command: double and single quotes group, a `#` after a space starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let t = 0; t < line.length; t++) {
    const c = line[t]!;
    if (quote) {
      if (c === quote) quote = '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '#' && !inWord) break;
    else if (c === ' ' || c === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** The commands of a block: one per line, `a && b` as two, comment lines dropped. */
function commands(block: string): string[][] {
  const out: string[][] = [];
  for (const line of block.split('\n')) {
    let part: string[] = [];
    for (const w of words(line)) {
      if (w === '&&') {
        out.push(part);
        part = [];
      } else part.push(w);
    }
    if (part.length > 0) out.push(part);
  }
  return out.filter((c) => c.length > 0);
}

interface Runnable {
  text: string;
  env: Record<string, string>;
  argv: string[];
}

/** Maps `npx collab ...` and `npm start` to the built CLI, and leading `VAR=value` words to env. */
function toRunnable(cmd: string[]): Runnable {
  const env: Record<string, string> = {};
  let rest = cmd;
  while (rest.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(rest[0]!)) {
    const [k, ...v] = rest[0]!.split('=');
    env[k!] = v.join('=');
    rest = rest.slice(1);
  }
  const text = rest.join(' ');
  if (rest[0] === 'npx' && rest[1] === 'collab') return { text, env, argv: rest.slice(2) };
  if (rest[0] === 'npm' && rest[1] === 'start') {
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const m = /^node dist\/cli\/main\.js (.*)$/.exec(script);
    assert.ok(m, `package.json's start script is not "node dist/cli/main.js ...": ${script}`);
    return { text, env, argv: [...words(m[1]!), ...rest.slice(2)] };
  }
  throw new Error(`the walk-through does not know how to run "${text}": add it to SKIP with a reason, or map it here`);
}

/** The file package.json's "exports" gives for `collab` or `collab/<sub>` (the script runs outside the package, so it cannot import it by name). */
function exportedFile(sub: string | undefined): string {
  const exports = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }).exports;
  const target = exports[`.${sub ?? ''}`];
  assert.ok(target, `the README's Library example imports "collab${sub ?? ''}", which package.json's exports do not name`);
  return target.default;
}

/** Runs a serving command on a free port, waits for its URL, asks /api/health, then stops it with SIGTERM. */
async function serveOnce(r: Runnable, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [main, ...r.argv, '--port', '0'], { cwd, env: { ...env, ...r.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /serving .* on (http:\/\/[^\s)]+)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`"${r.text}" exited with ${code} before serving:\n${output}`)));
    // a server that neither serves nor exits would otherwise hang the suite
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`"${r.text}" printed no URL within ${COMMAND_LIMIT_MS / 1000} s:\n${output}`));
    }, COMMAND_LIMIT_MS).unref();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const res = await fetch(`${url}/api/health`);
    assert.equal(res.status, 200, `${r.text}: GET /api/health answered ${res.status}`);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `"${r.text}" did not stop cleanly on SIGTERM:\n${output}`);
}

test('README walk-through: Quick start, Command line, Service and Library run in order', { skip: missing ? `README walk-through skipped: ${missing}` : false, timeout: 600_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'collab-readme-'));
  // One epoch per training run keeps the walk-through within its budget; the figures are not checked here.
  const env: NodeJS.ProcessEnv = { ...process.env, COLLAB_HOME: join(cwd, 'home'), COLLAB_MAX_EPOCHS: '1' };
  try {
    for (const section of ['Quick start', 'Command line', 'Service']) {
      for (const block of blocks(section, 'sh')) {
        for (const cmd of commands(block)) {
          const text = cmd.join(' ');
          const skip = SKIP.find((s) => s.match.test(text) && (s.unlessEnv === undefined || process.env[s.unlessEnv] === undefined));
          if (skip) {
            console.log(`# README walk-through: skipped "${text}": ${skip.why}`);
            continue;
          }
          const r = toRunnable(cmd);
          if (pgUrl !== undefined) r.argv = r.argv.map((a) => (a.startsWith('postgres://') ? pgUrl : a));
          const started = performance.now();
          if (LONG_RUNNING.test(r.text)) await serveOnce(r, cwd, env);
          else {
            const res = spawnSync(process.execPath, [main, ...r.argv], { cwd, env: { ...env, ...r.env }, encoding: 'utf8', timeout: COMMAND_LIMIT_MS });
            assert.equal(res.status, 0, `${section}: "${text}" exited with ${res.status}${res.error ? ` (${res.error.message})` : ''}:\n${res.stderr}`);
          }
          // where the walk-through's time goes, for whoever adds the next slow example
          console.log(`# README walk-through: ${((performance.now() - started) / 1000).toFixed(1)} s  ${text}`);
        }
      }
    }
    const [library] = blocks('Library', 'js');
    assert.ok(library, 'README\'s Library section has no js example');
    const script = join(cwd, 'library-example.mjs');
    writeFileSync(script, library.replace(/from 'collab(\/[a-z]+)?'/g, (_, sub: string | undefined) => `from '${pathToFileURL(join(root, exportedFile(sub))).href}'`));
    const lib = spawnSync(process.execPath, [script], { cwd, env, encoding: 'utf8' });
    assert.equal(lib.status, 0, `Library example exited with ${lib.status}:\n${lib.stderr}`);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('README walk-through parser: comments, quotes, && and VAR=value', () => {
  assert.deepEqual(commands('# data\nnpx collab a "1:5,2:4" # note\nX=1 npx collab b && npx collab c\n'), [
    ['npx', 'collab', 'a', '1:5,2:4'],
    ['X=1', 'npx', 'collab', 'b'],
    ['npx', 'collab', 'c'],
  ]);
  assert.deepEqual(toRunnable(['X=a=b', 'npx', 'collab', 'serve']), { text: 'npx collab serve', env: { X: 'a=b' }, argv: ['serve'] });
});
