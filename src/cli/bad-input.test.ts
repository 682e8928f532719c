import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runCli } from '../testing/fixtures.js';

// The bad-input corpus: every bad file or argument runs through the real CLI and must give exactly
// one error line naming the file:line or the field, exit 1 (2 for bad usage), and write nothing.

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'collab-bad-input-'));
after(() => rmSync(root, { recursive: true, force: true }));
const p = (...parts: string[]): string => join(root, ...parts);

/** A MovieLens-shaped folder (ratings.csv + movies.csv) whose movie ids start at `first`. */
function catalogue(name: string, first: number, word = 'Movie'): void {
  mkdirSync(p(name));
  const movies = ['movieId,title,genres'];
  const ratings = ['userId,movieId,rating,timestamp'];
  for (let i = first; i < first + 20; i++) movies.push(`${i},${word} ${i} (${1990 + (i % 10)}),Comedy|Drama`);
  for (let u = 1; u <= 30; u++) {
    for (let i = first; i < first + 20; i++) if ((u * 7 + i * 3) % 5 !== 0) ratings.push(`${u},${i},${u % 2 === i % 2 ? 5 : 1},${1000 + u}`);
  }
  writeFileSync(p(name, 'movies.csv'), movies.join('\n') + '\n');
  writeFileSync(p(name, 'ratings.csv'), ratings.join('\n') + '\n');
}

/** Every file under the folder with its size, so a case can show it wrote nothing. */
function snapshot(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (!name.endsWith('-wal') && !name.endsWith('-shm')) out.push(`${relative(root, full)} ${st.size}`);
    }
  };
  walk(root);
  return out;
}

const train = ['train', '--model', 'dotbias', '--factors', '4', '--epochs', '1', '--bs', '32'];
let busy: Server;
let busyPort = 0;

before(async () => {
  catalogue('catA', 1);
  catalogue('catB', 500);
  catalogue('catC', 1, 'Film');
  const ok = (args: string[]): void => {
    const r = runCli(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  ok([...train, '--data', p('catA'), '--out', p('a.json')]);
  ok(['db', 'import', p('catB'), '--db', p('b.sqlite')]);
  ok(['db', 'import', p('catC'), '--db', p('c-old.sqlite')]);
  // a database written before identities were recorded
  const old = new Database(p('c-old.sqlite'));
  old.exec('DELETE FROM collab_meta');
  old.close();
  const manifest = JSON.parse(readFileSync(p('a.json'), 'utf8')) as { userIds: unknown[]; yRange: number[]; kind: string; weights: { file: string } };
  const edited = (name: string, edit: (m: typeof manifest) => void): void => {
    const copy = structuredClone(manifest);
    edit(copy);
    writeFileSync(p(name), JSON.stringify(copy));
  };
  edited('swapped-users.json', (m) => {
    [m.userIds[0], m.userIds[1]] = [m.userIds[1], m.userIds[0]];
  });
  edited('yrange.json', (m) => {
    m.yRange = [0, 9.5];
  });
  edited('kind.json', (m) => {
    m.kind = 'dot';
  });
  const files: [string, string | Buffer][] = [
    ['huge-float.csv', 'userId,movieId,rating\n1,1,4\n1,2,1e39\n'],
    ['1e308.csv', 'userId,movieId,rating\n1,1,4\n1,2,1e308\n'],
    ['negative.csv', 'userId,movieId,rating\n1,1,4\n1,2,-1\n'],
    ['word.csv', 'userId,movieId,rating\n1,2,4\n1,3,four\n'],
    ['short-row.csv', 'userId,movieId,rating,timestamp\n1,2,4,5\n1,3\n'],
    ['empty.csv', ''],
    ['utf16.csv', Buffer.from([0xff, 0xfe, 0x31, 0x00])],
    ['nul.csv', Buffer.from('1,2,4\n1,\u00003,4\n')],
    ['long-line.csv', 'userId,movieId,rating\n'.padEnd(2 << 20, '7')],
    ['secret.csv', 'userId,movieId,rating\n1,1,4\n'],
    ['empty-token', '\n'],
  ];
  for (const [name, text] of files) writeFileSync(p(name), text);
  mkdirSync(p('out'));
  mkdirSync(p('a-folder'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
after(() => busy?.close());

interface Case {
  name: string;
  args: () => string[];
  exit: 1 | 2;
  /** The one stderr line. */
  line: () => string | RegExp;
  env?: NodeJS.ProcessEnv;
}

const CHECKSUM = 'manifest was edited or damaged: its contents (ids, kind, config, catalogue, ...) no longer match its manifestSha256; re-save or re-train the model rather than editing it';
const SKIP_HINT = 'fix the row or use --skip-bad-rows to skip such rows';
const RANGE = 'ratings are read from 0 to 1000000 (declare another range with --scale lo,hi)';

const cases: Case[] = [
  { name: 'a rating beyond float32 (data info)', args: () => ['data', 'info', p('huge-float.csv')], exit: 1, line: () => `collab: error: ${p('huge-float.csv')}:3: rating 1e39 is too large: ${RANGE}; ${SKIP_HINT}` },
  { name: 'a rating of 1e308 (train)', args: () => [...train, '--data', p('1e308.csv'), '--out', p('out', 'm.json')], exit: 1, line: () => `collab: error: ${p('1e308.csv')}:3: rating 1e308 is too large: ${RANGE}; ${SKIP_HINT}` },
  { name: 'a negative rating', args: () => ['data', 'info', p('negative.csv')], exit: 1, line: () => `collab: error: ${p('negative.csv')}:3: rating -1 is negative: ${RANGE}; ${SKIP_HINT}` },
  { name: 'a word for a rating', args: () => [...train, '--data', p('word.csv')], exit: 1, line: () => `collab: error: ${p('word.csv')}:3: rating "four" is not a finite number; ${SKIP_HINT}` },
  { name: 'a row with too few fields', args: () => ['data', 'info', p('short-row.csv')], exit: 1, line: () => `collab: error: ${p('short-row.csv')}:3: expected 4 fields separated by ",", found 2; ${SKIP_HINT}` },
  { name: 'an empty file', args: () => ['data', 'info', p('empty.csv')], exit: 1, line: () => `collab: error: ${p('empty.csv')}: is empty: it holds no ratings; check the path or the download` },
  { name: 'a UTF-16 file', args: () => ['data', 'info', p('utf16.csv')], exit: 1, line: () => new RegExp(`^collab: error: ${esc(p('utf16.csv'))}:1: starts with a UTF-16 byte-order mark`) },
  { name: 'a NUL byte', args: () => ['data', 'info', p('nul.csv')], exit: 1, line: () => new RegExp(`^collab: error: ${esc(p('nul.csv'))}:2: holds a NUL byte`) },
  { name: 'a 2 MiB line without a line break', args: () => ['data', 'info', p('long-line.csv')], exit: 1, line: () => `collab: error: ${p('long-line.csv')}:2: is longer than 1048576 bytes without a line break; this is not a ratings file (or its line breaks were lost)` },
  { name: 'a missing file', args: () => ['data', 'info', p('nope.csv')], exit: 1, line: () => new RegExp(`^collab: error: no dataset or file "${esc(p('nope.csv'))}"`) },
  { name: '--out is a folder', args: () => [...train, '--data', p('catA'), '--out', p('a-folder')], exit: 1, line: () => `collab: error: ${p('a-folder')}: cannot save the model: this is a folder; give a file name such as model.json inside it` },
  { name: '--out in a missing folder', args: () => [...train, '--data', p('catA'), '--out', p('absent', 'm.json')], exit: 1, line: () => `collab: error: ${p('absent', 'm.json')}: cannot save the model: folder ${p('absent')} does not exist; create it first or choose another --out` },
  { name: 'a diverging lr', args: () => ['train', '--data', p('catA'), '--model', 'dot', '--lr', '1e12', '--epochs', '2', '--out', p('out', 'm.json')], exit: 2, line: () => /^collab: error: training diverged: the loss became (NaN|Infinity|-Infinity) at epoch 0, batch \d+ of \d+ \(lr [^)]+\); stopped without saving — train again with a lower --lr \(collab lr-find suggests one\)$/ },
  { name: '--db names a file that is not a database', args: () => ['db', 'info', '--db', p('word.csv')], exit: 1, line: () => `collab: error: ${p('word.csv')}: is not a SQLite database; give a .sqlite file (created when missing), a new path or a postgres:// URL` },
  { name: 'train --db names a CSV', args: () => [...train, '--db', p('word.csv')], exit: 1, line: () => `collab: error: ${p('word.csv')}: is not a SQLite database; give a .sqlite file (created when missing), a new path or a postgres:// URL` },
  { name: 'a manifest with two users swapped', args: () => ['recommend', '--model', p('swapped-users.json'), '--user', '1'], exit: 1, line: () => `collab: error: ${p('swapped-users.json')}: ${CHECKSUM}` },
  { name: 'a manifest with yRange 5.5 -> 9.5', args: () => ['recommend', '--model', p('yrange.json'), '--user', '1'], exit: 1, line: () => `collab: error: ${p('yrange.json')}: ${CHECKSUM}` },
  { name: 'a manifest with kind dotbias -> dot', args: () => ['evaluate', '--model', p('kind.json'), '--data', p('catA')], exit: 1, line: () => `collab: error: ${p('kind.json')}: ${CHECKSUM}` },
  {
    name: 'evaluate on another dataset',
    args: () => ['evaluate', '--model', p('a.json'), '--data', p('catB')],
    exit: 1,
    line: () => /^collab: error: .*a\.json: the model was trained on catA \(20 movies, catalogue [0-9a-f]{12}\) but --data .*catB is catB \(20 movies, catalogue [0-9a-f]{12}\): the same movie ids name other films there; use matching data, or pass --force-dataset if they really are the same catalogue$/,
  },
  {
    name: 'db import of a second dataset',
    args: () => ['db', 'import', p('catA'), '--db', p('b.sqlite')],
    exit: 1,
    line: () => /^collab: error: the database .*b\.sqlite holds catB \(20 movies, catalogue [0-9a-f]{12}\) but the import \(.*catA\) is catA \(20 movies, catalogue [0-9a-f]{12}\): .* pass --force-dataset if they really are the same catalogue$/,
  },
  {
    name: 'serve a model over a database of another dataset',
    args: () => ['serve', '--model', p('a.json'), '--db', p('b.sqlite'), '--port', '0'],
    exit: 1,
    line: () => /^collab: error: the model was trained on catA \(20 movies, catalogue [0-9a-f]{12}\) but the database .*b\.sqlite holds catB \(20 movies, catalogue [0-9a-f]{12}\): .*--force-dataset/,
  },
  {
    name: 'serve a model over an older database (no identity recorded) holding other titles',
    args: () => ['serve', '--model', p('a.json'), '--db', p('c-old.sqlite'), '--port', '0'],
    exit: 1,
    line: () => /^collab: error: 20 of the 20 movies the database .*c-old\.sqlite and the model share have other titles \(movie (\d+) is "Film \1 \(\d+\)" in the database .*c-old\.sqlite, "Movie \1 \(\d+\)" in the model\): they hold different datasets; use matching data, or pass --force-dataset to overwrite the titles$/,
  },
  {
    name: 'db import into an older database (no identity recorded) holding other titles',
    args: () => ['db', 'import', p('catA'), '--db', p('c-old.sqlite')],
    exit: 1,
    line: () => /^collab: error: 20 of the 20 movies the database .*c-old\.sqlite and the import \(.*catA\) share have other titles \(movie (\d+) is "Film \1 \(\d+\)" in the database .*c-old\.sqlite, "Movie \1 \(\d+\)" in the import \(.*catA\)\): they hold different datasets; use matching data, or pass --force-dataset to overwrite the titles$/,
  },
  { name: 'serve on a busy port', args: () => ['serve', '--model', p('a.json'), '--db', p('new.sqlite'), '--port', String(busyPort)], exit: 2, line: () => `collab: error: port ${busyPort} on 127.0.0.1 is already in use (another collab serve?); stop it or pick another --port` },
  { name: 'quickstart --serve on a busy port (before any download or training)', args: () => ['quickstart', '--serve', '--port', String(busyPort), '--data-dir', p('absent')], exit: 2, line: () => `collab: error: port ${busyPort} on 127.0.0.1 is already in use (another collab serve?); stop it or pick another --port` },
  { name: 'serve with a missing token file', args: () => ['serve', '--model', p('a.json'), '--db', p('new.sqlite'), '--token-file', p('no-token')], exit: 1, line: () => `collab: error: ${p('no-token')}: cannot read the token file: no such file` },
  { name: 'serve with an empty token file', args: () => ['serve', '--model', p('a.json'), '--db', p('new.sqlite'), '--token-file', p('empty-token')], exit: 1, line: () => `collab: error: ${p('empty-token')}: the token file is empty; write the token on its first line` },
  { name: 'a flag that is not a number', args: () => [...train, '--data', p('catA'), '--lr', 'fast'], exit: 2, line: () => 'collab: error: --lr must be a number, got "fast"' },
  { name: 'a wd that is neither a number nor auto', args: () => [...train, '--data', p('catA'), '--wd', 'less'], exit: 2, line: () => 'collab: error: --wd must be a number or "auto", got "less"' },
];

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('bad-input corpus through the real CLI', () => {
  for (const c of cases) {
    test(c.name, () => {
      const before = snapshot();
      const r = runCli(c.args(), c.env);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `one error line, got:\n${r.stderr}`);
      const want = c.line();
      if (typeof want === 'string') assert.equal(lines[0], want);
      else assert.match(lines[0]!, want);
      assert.equal(r.status, c.exit, r.stderr);
      assert.deepEqual(snapshot(), before, 'nothing written');
    });
  }

  test('an unreadable file is one line naming it (run as an unprivileged user when root)', () => {
    chmodSync(p('secret.csv'), 0o000);
    chmodSync(root, 0o755); // the unprivileged user may look into the folder, just not read the file
    try {
      const asRoot = process.getuid?.() === 0;
      const r = spawnSync(process.execPath, [main, 'data', 'info', p('secret.csv')], { encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
      assert.equal(r.stderr, `collab: error: ${p('secret.csv')}: cannot read: permission denied; check the file's permissions (or run as its owner)\n`);
      assert.equal(r.status, 1);
    } finally {
      chmodSync(p('secret.csv'), 0o644);
    }
  });

  test('--skip-bad-rows skips out-of-range ratings and counts them', () => {
    const r = runCli(['data', 'info', p('1e308.csv'), '--skip-bad-rows', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.json as { ratings: number }).ratings, 1);
  });

  test('--force-dataset evaluates a model on another dataset anyway', () => {
    const r = runCli(['evaluate', '--model', p('a.json'), '--data', p('catB'), '--rating-only', '--force-dataset', '--json']);
    assert.equal(r.status, 0, r.stderr);
  });

  test('a split without validation ratings says so instead of "valid MSE NaN"', () => {
    const r = runCli([...train, '--data', p('catA'), '--valid-pct', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^no validation ratings \(train loss \d+\.\d{4}\) after \d+\.\d\d s of training$/m);
    assert.doesNotMatch(r.stdout, /valid MSE NaN/);
  });

  test('serve --token warns that it shows in ps; --help points at --token-file and $COLLAB_TOKEN', () => {
    const r = runCli(['serve', '--model', p('a.json'), '--db', p('new2.sqlite'), '--token', 'short', '--port', String(busyPort)]);
    assert.equal(r.status, 2);
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [
      'collab: warning: --token is visible to every user of this machine (ps); prefer --token-file or $COLLAB_TOKEN',
      'collab: error: the token must be at least 8 characters; pick a longer --token-file, $COLLAB_TOKEN or --token',
    ]);
    const help = runCli(['serve', '--help']);
    assert.match(help.stdout, /--token-file <file>/);
    assert.match(help.stdout, /\$COLLAB_TOKEN/);
  });

  test('a model copied with its folder keeps loading, and a save there leaves one weights file', () => {
    cpSync(p('a.json'), p('out', 'copy.json'));
    const weights = (JSON.parse(readFileSync(p('a.json'), 'utf8')) as { weights: { file: string } }).weights.file;
    cpSync(p(weights), p('out', weights));
    const r = runCli(['recommend', '--model', p('out', 'copy.json'), '--user', '1', '--min-ratings', '0', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const again = runCli([...train, '--data', p('catA'), '--out', p('out', 'copy.json'), '--seed', '7']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readdirSync(p('out')).filter((f) => f.startsWith('copy.') && f.endsWith('.weights.bin')).length, 1);
  });
});
