import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { MIGRATIONS } from '../server/store/migrations.js';
import { openStore } from '../server/store/open-store.js';
import { PG_SKIP, pgTestDatabase } from '../server/testing/databases.js';
import { catalogueIdentity } from '../data/identity.js';
import { registerDbCommands } from './db.js';
import { registerServeCommand, unratedMoviesNote } from './serve.js';

/** Runs `collab <args>` in-process; returns the --json result line and the exit code. */
async function run(args: string[]): Promise<{ json: unknown; code: number; stderr: string }> {
  const program = new Command('collab').exitOverride();
  registerDbCommands(program);
  registerServeCommand(program);
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'collab', ...args]);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  const last = out.join('').trim().split('\n').at(-1);
  return { json: last ? JSON.parse(last) : undefined, code, stderr: err.join('') };
}

function ratingsFile(dir: string): string {
  const file = join(dir, 'ratings.csv');
  writeFileSync(file, 'userId,movieId,rating,timestamp\n1,10,4,100\n1,20,3.5,200\n2,10,5,300\n2,30,1,400\n');
  return file;
}

test('collab db import writes movies and ratings into SQLite; importing again replaces, not duplicates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-dbcli-'));
  try {
    const file = ratingsFile(dir);
    const db = join(dir, 'x.sqlite');
    const r = await run(['db', 'import', file, '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { db, dataset: 'ratings.csv', movies: 3, ratedMovies: 3, ratings: 4, users: 2 });
    assert.doesNotMatch(r.stderr, /no rating/);
    assert.equal((await run(['db', 'import', file, '--db', db, '--json'])).code, 0);
    const info = await run(['db', 'info', '--db', db, '--json']);
    assert.deepEqual(info.json, { db, kind: 'sqlite', schemaVersion: MIGRATIONS.at(-1)!.version, users: 2, movies: 3, ratings: 4, apiRatings: 0 });
    const store = await openStore(db);
    const cols = await store.ratingsColumns();
    assert.deepEqual(cols.users, [1, 1, 2, 2]);
    assert.deepEqual(cols.items, [10, 20, 10, 30]);
    assert.deepEqual([...cols.ratings], [4, 3.5, 5, 1]);
    assert.deepEqual([...cols.ratedAt], [100_000, 200_000, 300_000, 400_000]);
    assert.deepEqual((await store.searchMovies({ q: 'movie 10' })).movies.map((m) => [m.movieId, m.ratingCount, m.meanRating]), [[10, 2, 4.5]]);
    await store.close();
    const bad = await run(['db', 'import', join(dir, 'missing.csv'), '--db', db]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no dataset or file ".*missing\.csv": give a ratings file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab db import of a bare ratings file keeps the titles already in the database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-dbcli-'));
  try {
    const folder = join(dir, 'cat');
    mkdirSync(folder);
    writeFileSync(join(folder, 'movies.csv'), 'movieId,title,genres\n10,Heat (1995),Crime\n20,Fargo (1996),Crime\n');
    writeFileSync(join(folder, 'ratings.csv'), 'userId,movieId,rating,timestamp\n1,10,4,100\n2,20,5,200\n');
    const db = join(dir, 'x.sqlite');
    assert.equal((await run(['db', 'import', folder, '--db', db, '--json'])).code, 0);
    const r = await run(['db', 'import', ratingsFile(dir), '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const store = await openStore(db);
    const { movies } = await store.searchMovies({ limit: 10 });
    assert.deepEqual(movies.map((m) => [m.movieId, m.title]).sort(), [[10, 'Heat (1995)'], [20, 'Fargo (1996)'], [30, 'Movie 30']]);
    await store.close();
    const info = await run(['db', 'info', '--db', db, '--json']);
    assert.deepEqual((info.json as { dataset: unknown }).dataset, { name: 'cat', items: 2, catalogueSha256: catalogueIdentity('cat', [10, 20]).catalogueSha256 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab db import says how many listed movies nobody rated, which a model will not know', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-dbcli-unrated-'));
  try {
    const folder = join(dir, 'ml-tiny');
    mkdirSync(folder);
    ratingsFile(folder);
    writeFileSync(join(folder, 'movies.csv'), 'movieId,title,genres\n10,Ten (1990),Drama\n20,Twenty (1991),Comedy\n30,Thirty (1992),Drama\n40,Forty (1993),Horror\n50,Fifty (1994),Horror\n');
    const db = join(dir, 'x.sqlite');
    const r = await run(['db', 'import', folder, '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { db, dataset: 'ml-tiny', movies: 5, ratedMovies: 3, ratings: 4, users: 2 });
    assert.match(r.stderr, /\n3 of the 5 movies are rated: 2 movies have no rating \(the movie list names movies nobody rated\); a model knows only the 3 rated ones, so they can be searched but not recommended\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unratedMoviesNote explains a listed/rated difference and says nothing without one', () => {
  assert.equal(unratedMoviesNote(9742, 9724), '18 movies have no rating (the movie list names movies nobody rated); a model knows only the 9724 rated ones, so they can be searched but not recommended');
  assert.equal(unratedMoviesNote(2, 1), '1 movie has no rating (the movie list names movies nobody rated); a model knows only the 1 rated ones, so it can be searched but not recommended');
  assert.equal(unratedMoviesNote(5, 5), undefined);
});

test('collab db import into PostgreSQL', { skip: PG_SKIP }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-dbcli-'));
  const t = pgTestDatabase();
  try {
    // the CLI takes a URL only, so point search_path at this test's schema through the URL's options
    const store = await t.open();
    await store.close();
    const url = new URL(t.db);
    url.searchParams.set('options', `-c search_path=${t.schema}`);
    const r = await run(['db', 'import', ratingsFile(dir), '--db', url.toString(), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.json as { ratings: number }).ratings, 4);
    const again = await t.open();
    assert.deepEqual(await again.counts(), { users: 2, movies: 3, ratings: 4, apiRatings: 0 });
    await again.close();
  } finally {
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collab serve checks its flags before loading the model', async () => {
  const port = await run(['serve', '--model', 'm.json', '--port', 'abc']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port must be a number, got "abc"/);
  const range = await run(['serve', '--model', 'm.json', '--port', '70000']);
  assert.match(range.stderr, /--port must be from 0 to 65535, got 70000/);
  const token = await run(['serve', '--model', 'm.json', '--token', 'short']);
  assert.equal(token.code, 2);
  assert.match(token.stderr, /the token must be at least 8 characters/);
});
