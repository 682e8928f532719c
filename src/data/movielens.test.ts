import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { detectMovieLensFormat, readMovieLensFolder, readMovieLensMetadata, yearFromTitle, type MovieLensUserMeta } from './movielens.js';

const root = mkdtempSync(join(tmpdir(), 'collab-ml-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Makes a folder of fixture files (strings are written as UTF-8, Buffers as they are). */
function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

const GENRES = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];

/** A u.item line with the given genre flags set. */
function uItem(id: number, title: string, date: string, genres: string[]): string {
  const flags = GENRES.map((g) => (genres.includes(g) ? '1' : '0'));
  return [id, title, date, '', 'http://us.imdb.com/x', ...flags].join('|');
}

describe('ml-latest layout (CSV)', () => {
  const dir = folder('csv', {
    'ratings.csv': 'userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.0,964981247\r\n2,1,2.5,1445714835\r\n',
    'movies.csv':
      'movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation\r\n3,"American President, The (1995)",Comedy|Drama|Romance\r\n' +
      '5,Babylon 5 (1994-1998),(no genres listed)\r\n7,No Year,Drama\r\n',
    'tags.csv': 'userId,movieId,tag,timestamp\r\n2,1,Pixar,1\r\n3,1,pixar,2\r\n3,1,"fun, clever",3\r\n2,99,orphan,4\r\n',
    'links.csv': 'movieId,imdbId,tmdbId\r\n1,0114709,862\r\n3,0112346,\r\n',
  });

  test('ratings, titles with commas, genres, years, tags and links', () => {
    assert.equal(detectMovieLensFormat(dir), 'csv');
    const d = readMovieLensFolder(dir);
    assert.equal(d.name, 'csv');
    assert.equal(d.ratings.ratings.length, 3);
    assert.deepEqual(Array.from(d.ratings.ratings), [4, 4, 2.5]);
    assert.deepEqual(d.items.get(1), { title: 'Toy Story (1995)', genres: ['Adventure', 'Animation'], year: 1995, tags: ['pixar', 'fun, clever'], imdbId: '0114709', tmdbId: '862' });
    assert.deepEqual(d.items.get(3), { title: 'American President, The (1995)', genres: ['Comedy', 'Drama', 'Romance'], year: 1995, imdbId: '0112346' });
    assert.deepEqual(d.items.get(5), { title: 'Babylon 5 (1994-1998)', genres: [], year: 1994 });
    assert.deepEqual(d.items.get(7), { title: 'No Year', genres: ['Drama'] });
    assert.equal(d.items.has(99), false);
    assert.equal(d.users.size, 0);
  });

  test('metadata: false reads ratings only', () => {
    const d = readMovieLensFolder(dir, { metadata: false });
    assert.equal(d.items.size, 0);
  });
});

describe('ml-100k layout', () => {
  const dir = folder('ml-100k', {
    'u.data': '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t543\t5\t881250950\n',
    'u.item': Buffer.from(
      [
        uItem(242, 'Kolya (1996)', '24-Jan-1997', ['Comedy']),
        uItem(267, 'unknown', '', ['unknown']),
        uItem(302, 'L.A. Confidential', '01-Jan-1997', ['Crime', 'Film-Noir', 'Mystery', 'Thriller']),
        uItem(543, 'Misérables, Les (1995)', '01-Jan-1995', ['Drama', 'Musical']),
      ].join('\n') + '\n',
      'latin1',
    ),
    'u.genre': GENRES.map((g, k) => `${g}|${k}`).join('\n') + '\n\n',
    'u.user': '196|49|M|writer|55105\n186|39|F|executive|00000\n',
  });

  test('u.data ratings, Latin-1 titles, genre flags, release-date years and demographics', () => {
    assert.equal(detectMovieLensFormat(dir), 'ml-100k');
    const d = readMovieLensFolder(dir);
    assert.equal(d.name, 'ml-100k');
    assert.deepEqual(Array.from(d.ratings.ratings), [3, 3, 5]);
    assert.deepEqual(Array.from(d.ratings.timestamps!), [881250949, 891717742, 881250950]);
    assert.deepEqual(d.items.get(543), { title: 'Misérables, Les (1995)', genres: ['Drama', 'Musical'], year: 1995 });
    assert.deepEqual(d.items.get(302), { title: 'L.A. Confidential', genres: ['Crime', 'Film-Noir', 'Mystery', 'Thriller'], year: 1997 });
    assert.deepEqual(d.items.get(267), { title: 'unknown', genres: [] });
    assert.deepEqual(d.users.get(186), { age: 39, gender: 'F', occupation: 'executive', zip: '00000' });
  });

  test('a malformed u.user line is a BAD_ROW naming file and line, or skipped and counted', () => {
    const bad = folder('ml-100k-bad', {
      'u.data': '1\t2\t3\t4\n',
      'u.user': '1|20|M|writer|11111\n2|30|F\n',
    });
    const path = join(bad, 'u.user');
    assert.throws(
      () => readMovieLensFolder(bad),
      (err: unknown) =>
        err instanceof CollabError &&
        err.code === 'BAD_ROW' &&
        err.message === `${path}:2: expected 5 fields separated by "|", found 3; fix the line or use --skip-bad-rows to skip such rows`,
    );
    const d = readMovieLensFolder(bad, { skipBadRows: true });
    assert.equal(d.report.badRows, 1);
    assert.equal(d.users.size, 1);
  });
});

describe('ml-1m / ml-10m layout (::)', () => {
  const files = {
    'movies.dat': Buffer.from("1::Toy Story (1995)::Animation|Children's|Comedy\n2::Misérables, Les (1935)::Drama\n", 'latin1'),
    'users.dat': '1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::99::55117\n',
  };

  test('ratings.dat, Latin-1 movies.dat, users.dat with age and occupation codes decoded', () => {
    const dir = folder('ml-1m', { ...files, 'ratings.dat': '1::1::5::978300760\n2::2::3::978302109\n' });
    assert.equal(detectMovieLensFormat(dir), 'dat');
    const d = readMovieLensFolder(dir);
    assert.equal(d.name, 'ml-1m');
    assert.deepEqual(Array.from(d.ratings.ratings), [5, 3]);
    assert.deepEqual(d.items.get(2), { title: 'Misérables, Les (1935)', genres: ['Drama'], year: 1935 });
    const u1 = d.users.get(1) as MovieLensUserMeta;
    assert.deepEqual(u1, { gender: 'F', zip: '48067', age: 1, ageRange: 'Under 18', occupation: 'K-12 student' });
    assert.deepEqual(d.users.get(2), { gender: 'M', zip: '70072', age: 56, ageRange: '56+', occupation: 'self-employed' });
    assert.equal(d.users.get(3)!.occupation, '99');
  });

  test('ml-10m tags.dat adds tags', () => {
    const dir = folder('ml-10M100K', { 'movies.dat': files['movies.dat'], 'ratings.dat': '1::1::4.5::1\n', 'tags.dat': '15::1::Pixar::1\n16::1::toys::2\n' });
    const d = readMovieLensFolder(dir);
    assert.equal(d.name, 'ml-10m');
    assert.deepEqual(d.items.get(1)!.tags, ['pixar', 'toys']);
  });

  test('a folder without ratings.dat says so, names what it holds and how to get the file', () => {
    const dir = folder('incomplete/ml-1m', { ...files, README: 'readme' });
    const path = join(dir, 'ratings.dat');
    assert.throws(
      () => readMovieLensFolder(dir),
      (err: unknown) =>
        err instanceof CollabError &&
        err.code === 'NOT_FOUND' &&
        err.message ===
          `${path}: ml-1m is incomplete: ratings.dat is missing (the folder holds only README, movies.dat, users.dat), so there are no ratings to load; ` +
            'copy ratings.dat from the ml-1m release into it, or run `collab data fetch ml-1m` and use that copy (--data-dir / COLLAB_DATA_DIR)',
    );
    // Its metadata is still readable on its own.
    const meta = readMovieLensMetadata(dir, 'dat', { badRows: 0, badRowExamples: [], duplicates: 0 });
    assert.equal(meta.items.size, 2);
    assert.equal(meta.users.size, 3);
  });
});

test('an unknown folder with only movies.csv asks for its ratings.csv', () => {
  const dir = folder('mine', { 'movies.csv': 'movieId,title,genres\n1,A (1999),Drama\n' });
  assert.throws(
    () => readMovieLensFolder(dir),
    (err: unknown) =>
      err instanceof CollabError &&
      err.message ===
        `${join(dir, 'ratings.csv')}: mine is incomplete: ratings.csv is missing (the folder holds only movies.csv), so there are no ratings to load; add ratings.csv to the folder, or give the path of a ratings file instead`,
  );
});

test('a folder with no MovieLens files is refused', () => {
  const dir = folder('empty', { 'notes.txt': 'x' });
  assert.equal(detectMovieLensFormat(dir), undefined);
  assert.throws(() => readMovieLensFolder(dir), /holds no MovieLens files \(ratings\.csv, u\.data or ratings\.dat\); give the path of a ratings file instead/);
});

test('yearFromTitle reads a trailing (year) or (year-year)', () => {
  assert.equal(yearFromTitle('Toy Story (1995)'), 1995);
  assert.equal(yearFromTitle('Nikita (La Femme Nikita) (1990) '), 1990);
  assert.equal(yearFromTitle('Fawlty Towers (1975–1979)'), 1975);
  assert.equal(yearFromTitle('1984 (Nineteen Eighty-Four)'), undefined);
  assert.equal(yearFromTitle('unknown'), undefined);
});
