import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CollabError } from '../core/errors.js';
import { jsonErrorOf } from './command.js';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
const lastLine = (stdout: string): unknown => JSON.parse(stdout.trim().split('\n').pop()!);

test('jsonErrorOf keeps a CollabError\'s code and first line; anything else is INTERNAL', () => {
  assert.deepEqual(jsonErrorOf(new CollabError('NOT_FOUND', 'no such thing', { file: 'x.csv' })), { error: { code: 'NOT_FOUND', message: 'x.csv: no such thing' } });
  assert.deepEqual(jsonErrorOf(new Error('boom\nstack')), { error: { code: 'INTERNAL', message: 'boom' } });
});

test('--json: a failing command prints {"error":{code,message}} as the last stdout line, exit code unchanged', () => {
  const r = run(['evaluate', '--model', 'no-such-model.json', '--data', 'no-such-file.csv', '--json']);
  assert.equal(r.status, 1);
  const out = lastLine(r.stdout) as { error: { code: string; message: string } };
  assert.equal(typeof out.error.code, 'string');
  assert.match(out.error.message, /no-such-model\.json/);
  assert.match(r.stderr, /^collab: error: /);
});

test('--json: bad usage caught by the command (exit 2) and by the parser (exit 2) both print the error as JSON', () => {
  const own = run(['recommend', '--model', 'm.json', '--json']);
  assert.equal(own.status, 2);
  assert.deepEqual(lastLine(own.stdout), { error: { code: 'USAGE', message: 'give --user ID, --ratings "movieId:rating,...", or both (a known user\'s new ratings)' } });
  const parser = run(['evaluate', '--data', 'x.csv', '--json']);
  assert.equal(parser.status, 2);
  assert.deepEqual(lastLine(parser.stdout), { error: { code: 'USAGE', message: "required option '--model <file>' not specified" } });
  const plain = run(['evaluate', '--data', 'x.csv']);
  assert.equal(plain.status, 2);
  assert.equal(plain.stdout, '');
});
