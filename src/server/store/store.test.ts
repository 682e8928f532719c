import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CollabError } from '../../core/errors.js';
import { testDatabases, type TestDatabase } from '../testing/databases.js';
import { MIGRATIONS } from './migrations.js';
import { openStore } from './open-store.js';
import { likePattern, packGenres, unpackGenres, type MovieRow } from './store.js';

const movies: MovieRow[] = [
  { movieId: 1, title: 'Toy Story (1995)', genres: ['Animation', 'Comedy'], year: 1995, ratingCount: 50, meanRating: 3.9 },
  { movieId: 3114, title: 'Toy Story 2 (1999)', genres: ['Animation', 'Comedy'], year: 1999, ratingCount: 20, meanRating: 3.8 },
  { movieId: 2, title: '100% Wolf_Pack (2020)', genres: ['Action'], ratingCount: 1, meanRating: 2 },
  { movieId: 260, title: "Star Wars (1977) '; DROP TABLE movies; --", genres: ['Sci-Fi', 'Action'], year: 1977, ratingCount: 70, meanRating: 4.2 },
];

const titled: MovieRow[] = [
  { movieId: 2571, title: 'Matrix, The (1999)', genres: ['Action'], ratingCount: 30, meanRating: 4.2 },
  { movieId: 6365, title: 'Matrix Reloaded, The (2003)', genres: ['Action'], ratingCount: 10, meanRating: 3.4 },
  { movieId: 4973, title: "Fabuleux destin d'Amélie Poulain, Le (2001)", genres: ['Comedy'], ratingCount: 20, meanRating: 4.1 },
  { movieId: 527, title: "Schindler's List (1993)", genres: ['Drama'], ratingCount: 25, meanRating: 4.3 },
];

/** Runs SQL on a test database behind the store's back (to recreate a database from an older version). */
async function rawExec(t: TestDatabase, sql: string): Promise<void> {
  if (t.kind === 'sqlite') {
    const db = new Database(t.db);
    db.exec(sql);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: t.db, options: `-c search_path=${t.schema}` });
  await client.connect();
  await client.query(sql);
  await client.end();
}

test('genres pack so one LIKE finds a whole genre, and LIKE patterns escape % _ \\', () => {
  assert.equal(packGenres(['Action', 'Sci-Fi']), '|Action|Sci-Fi|');
  assert.deepEqual(unpackGenres('|Action|Sci-Fi|'), ['Action', 'Sci-Fi']);
  assert.deepEqual(unpackGenres(''), []);
  assert.equal(likePattern('50%_a\\b'), '%50\\%\\_a\\\\b%');
});

for (const kind of testDatabases()) {
  describe(`${kind.kind} store`, { skip: kind.skip }, () => {
    test('is created and migrated on first open, and not migrated twice', async () => {
      const t = kind.make();
      try {
        const s1 = await t.open();
        assert.equal(await s1.schemaVersion(), MIGRATIONS.at(-1)!.version);
        assert.deepEqual(await s1.counts(), { users: 0, movies: 0, ratings: 0, apiRatings: 0 });
        await s1.close();
        const s2 = await t.open();
        assert.equal(await s2.schemaVersion(), MIGRATIONS.at(-1)!.version);
        await s2.close();
      } finally {
        await t.dispose();
      }
    });

    test('records which dataset it holds: none at first, then the identity given, kept across opens', async () => {
      const t = kind.make();
      try {
        const s1 = await t.open();
        assert.equal(await s1.datasetIdentity(), undefined);
        const id = { name: 'ml-100k', items: 1682, catalogueSha256: 'c'.repeat(64) };
        await s1.setDatasetIdentity(id);
        await s1.setDatasetIdentity(id);
        await s1.close();
        const s2 = await t.open();
        assert.deepEqual(await s2.datasetIdentity(), id);
        await s2.close();
      } finally {
        await t.dispose();
      }
    });

    test('search: title substring, genre, popularity order, paging, and SQL text taken literally', async () => {
      const t = kind.make();
      const s = await t.open();
      try {
        assert.equal(await s.importMovies(movies), 4);
        const toy = await s.searchMovies({ q: 'toy story' });
        assert.equal(toy.total, 2);
        assert.deepEqual(toy.movies.map((m) => m.movieId), [1, 3114]);
        assert.deepEqual(toy.movies[0], movies[0]);
        assert.deepEqual((await s.searchMovies({ genre: 'action' })).movies.map((m) => m.movieId), [260, 2]);
        assert.deepEqual((await s.searchMovies({ genre: 'Sci' })).total, 0, 'a genre matches whole names only');
        assert.deepEqual((await s.searchMovies({ q: '100%' })).movies.map((m) => m.movieId), [2]);
        assert.equal((await s.searchMovies({ q: '_' })).total, 1, '_ is a literal underscore, not a wildcard');
        assert.equal((await s.searchMovies({ q: "'; DROP TABLE movies; --" })).total, 1);
        const page = await s.searchMovies({ limit: 2, offset: 1 });
        assert.equal(page.total, 4);
        assert.deepEqual(page.movies.map((m) => m.movieId), [1, 3114]);
        // importing again updates in place
        await s.importMovies([{ ...movies[0]!, title: 'Toy Story (re-release) (1995)' }]);
        assert.equal((await s.counts()).movies, 4);
        assert.equal((await s.searchMovies({ q: 're-release' })).movies[0]!.movieId, 1);
      } finally {
        await s.close();
        await t.dispose();
      }
    });

    test('search: either article order, accents, case and punctuation loosely', async () => {
      const t = kind.make();
      const s = await t.open();
      try {
        await s.importMovies([...movies, ...titled]);
        const ids = async (q: string) => (await s.searchMovies({ q })).movies.map((m) => m.movieId);
        assert.deepEqual(await ids('The Matrix'), [2571, 6365]);
        assert.deepEqual(await ids('matrix, the'), [2571]);
        assert.deepEqual(await ids('the matrix (1999)'), [2571]);
        assert.deepEqual(await ids('amelie'), [4973]);
        assert.deepEqual(await ids('Le fabuleux destin d’amélie'), [4973]);
        assert.deepEqual(await ids('schindlers list'), [527]);
        assert.deepEqual(await ids("SCHINDLER'S"), [527]);
        assert.deepEqual(await ids('the toy'), [], 'words of the two orders are not mixed');
      } finally {
        await s.close();
        await t.dispose();
      }
    });

    test('movies stored before the search column get their search key on the next open', async () => {
      const t = kind.make();
      let s = await t.open();
      try {
        await s.importMovies(titled);
        await s.close();
        await rawExec(t, "UPDATE movies SET search_title = ''");
        s = await t.open();
        assert.deepEqual((await s.searchMovies({ q: 'the matrix' })).movies.map((m) => m.movieId), [2571, 6365]);
      } finally {
        await s.close();
        await t.dispose();
      }
    });

    test('ratings: upsert per (user, movie), unknown movie refused with nothing written, columns, survive a reopen', async () => {
      const t = kind.make();
      let s = await t.open();
      try {
        await s.importMovies(movies);
        assert.equal(await s.importRatings([
          { userId: 7, movieId: 1, rating: 4, ratedAt: 1000 },
          { userId: 7, movieId: 260, rating: 5, ratedAt: 2000 },
          { userId: 8, movieId: 1, rating: 3, ratedAt: 3000 },
          { userId: 8, movieId: 1, rating: 2.5, ratedAt: 4000 },
        ]), 4);
        assert.deepEqual(await s.counts(), { users: 2, movies: 4, ratings: 3, apiRatings: 0 });
        const r = await s.upsertRating(7, 1, 1.5, 5000);
        assert.deepEqual(r, { userId: 7, movieId: 1, rating: 1.5, ratedAt: 5000, source: 'api' });
        await s.upsertRating(9, 3114, 4.5, 6000);
        await assert.rejects(s.upsertRating(9, 999, 4, 7000), (err: unknown) => {
          assert.ok(err instanceof CollabError);
          assert.equal(err.code, 'UNKNOWN_ITEM');
          assert.equal(err.message, 'movie 999 is not in the catalogue; search /api/movies for valid ids');
          return true;
        });
        assert.deepEqual(await s.counts(), { users: 3, movies: 4, ratings: 4, apiRatings: 2 }, 'the refused rating wrote nothing');
        await s.close();
        s = await t.open();
        assert.deepEqual(await s.userRatings(7), [
          { userId: 7, movieId: 1, rating: 1.5, ratedAt: 5000, source: 'api' },
          { userId: 7, movieId: 260, rating: 5, ratedAt: 2000, source: 'train' },
        ]);
        assert.deepEqual(await s.userRatings(8), [{ userId: 8, movieId: 1, rating: 2.5, ratedAt: 4000, source: 'train' }]);
        assert.deepEqual(await s.userRatings(12345), []);
        const cols = await s.ratingsColumns();
        assert.deepEqual(cols.users, [7, 8, 7, 9]);
        assert.deepEqual(cols.items, [260, 1, 1, 3114]);
        assert.deepEqual([...cols.ratings], [5, 2.5, 1.5, 4.5]);
        assert.deepEqual([...cols.ratedAt], [2000, 4000, 5000, 6000]);
      } finally {
        await s.close();
        await t.dispose();
      }
    });
  });
}

test('an unreachable PostgreSQL server is a clear error with the password hidden', async () => {
  await assert.rejects(openStore('postgres://someone:hunter2@127.0.0.1:1/collab'), (err: unknown) => {
    assert.ok(err instanceof CollabError);
    assert.equal(err.code, 'BAD_FILE');
    assert.match(err.message, /^cannot open PostgreSQL database postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/collab: .*; check the URL and that the server is running$/);
    assert.doesNotMatch(err.message, /hunter2/);
    assert.match(err.message, /: connect ECONNREFUSED 127\.0\.0\.1:1; check the URL/, 'the driver\'s reason, not the text of a 503');
    return true;
  });
});
