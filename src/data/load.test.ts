import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { findDatasetFolder, loadDataset } from './load.js';
import type { MovieLensUserMeta } from './movielens.js';
import { datasetStats } from './stats.js';

const root = mkdtempSync(join(tmpdir(), 'collab-load-'));
after(() => rmSync(root, { recursive: true, force: true }));
// Keep the developer's real cache out of these tests.
process.env.COLLAB_HOME = join(root, 'home');

function write(path: string, content: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

const dataDir = join(root, 'datasets');
write(join(dataDir, 'ml-100k', 'u.data'), '1\t10\t4\t100\n2\t10\t3\t101\n2\t20\t5\t102\n');
write(join(dataDir, 'ml-100k', 'u1.base'), '1\t10\t4\t100\n2\t20\t5\t102\n');
write(join(dataDir, 'ml-100k', 'u.user'), '1|20|M|writer|11111\n2|30|F|artist|22222\n');
write(join(dataDir, 'ml-1m', 'movies.dat'), '1::Toy Story (1995)::Comedy\n');
write(join(dataDir, 'plain', 'ratings.csv'), 'userId,movieId,rating\n5,6,1\n');

describe('loadDataset by name, folder and file', () => {
  test('a known name is found in --data-dir', () => {
    const d = loadDataset('ml-100k', { dataDir });
    assert.equal(d.name, 'ml-100k');
    assert.equal(d.source, join(dataDir, 'ml-100k'));
    assert.equal(d.ratings.ratings.length, 3);
    assert.equal(d.users.get(2)!.occupation, 'artist');
  });

  test('a folder path works like a name', () => {
    const d = loadDataset(join(dataDir, 'ml-100k'));
    assert.equal(d.name, 'ml-100k');
    assert.equal(d.ratings.ratings.length, 3);
  });

  test('a file inside a MovieLens folder also gets that folder\'s metadata', () => {
    const d = loadDataset(join(dataDir, 'ml-100k', 'u1.base'));
    assert.equal(d.name, 'u1.base');
    assert.equal(d.ratings.ratings.length, 2);
    assert.equal(d.users.size, 2);
  });

  test('a plain folder with a ratings.csv loads it', () => {
    const d = loadDataset(join(dataDir, 'plain'));
    assert.equal(d.name, 'plain');
    assert.deepEqual(Array.from(d.ratings.ratings), [1]);
  });

  test('a known dataset that is nowhere says how to fetch it', () => {
    assert.throws(
      () => loadDataset('ml-25m', { dataDir }),
      (err: unknown) =>
        err instanceof CollabError &&
        err.code === 'NOT_FOUND' &&
        err.message.startsWith(`dataset ml-25m is not in ${dataDir}, `) &&
        err.message.endsWith('; run `collab data fetch ml-25m` to download it, or set COLLAB_DATA_DIR (or --data-dir) to a folder holding ml-25m/'),
    );
  });

  test('ml-1m without ratings.dat says the file is missing', () => {
    assert.equal(findDatasetFolder('ml-1m', dataDir), join(dataDir, 'ml-1m'));
    assert.throws(() => loadDataset('ml-1m', { dataDir }), /ml-1m is incomplete: ratings\.dat is missing/);
  });

  test('a complete copy later in the search order wins over an incomplete one', () => {
    const other = join(root, 'other');
    write(join(other, 'ml-1m', 'ratings.dat'), '1::1::5::1\n');
    const before = process.env.COLLAB_DATA_DIR;
    process.env.COLLAB_DATA_DIR = other;
    try {
      assert.equal(findDatasetFolder('ml-1m', dataDir), join(other, 'ml-1m'));
      assert.equal(loadDataset('ml-1m', { dataDir }).ratings.ratings.length, 1);
    } finally {
      if (before === undefined) delete process.env.COLLAB_DATA_DIR;
      else process.env.COLLAB_DATA_DIR = before;
    }
  });

  test('a path under a dataset name (ml-100k/u1.base) resolves where the name does, with its metadata', () => {
    const d = loadDataset('ml-100k/u1.base', { dataDir });
    assert.equal(d.source, join(dataDir, 'ml-100k', 'u1.base'));
    assert.equal(d.ratings.ratings.length, 2);
    assert.equal(d.users.get(2)!.occupation, 'artist');
  });

  test('a path under a dataset name that holds no such file names the file and the folders looked in', () => {
    const env = process.env.COLLAB_DATA_DIR;
    delete process.env.COLLAB_DATA_DIR;
    try {
      assert.throws(
        () => loadDataset('ml-100k/u9.base', { dataDir }),
        (err: unknown) =>
          err instanceof CollabError &&
          err.code === 'NOT_FOUND' &&
          err.message ===
            `no file "ml-100k/u9.base": looked for u9.base in ml-100k/ under ${dataDir}, ${join(root, 'home', 'datasets')}; ` +
              'run `collab data fetch ml-100k` or set COLLAB_DATA_DIR (or --data-dir) to a folder holding ml-100k/',
      );
    } finally {
      if (env !== undefined) process.env.COLLAB_DATA_DIR = env;
    }
  });

  test('an unknown name that is not a path lists the known names', () => {
    assert.throws(
      () => loadDataset('ml-5m'),
      (err: unknown) =>
        err instanceof CollabError &&
        err.code === 'NOT_FOUND' &&
        err.message ===
          'no dataset or file "ml-5m": give a ratings file, a dataset folder, or one of ml-latest-small, ml-latest, ml-100k, ml-1m, ml-10m, ml-20m, ml-25m ' +
            '(found in --data-dir, COLLAB_DATA_DIR or the cache that `collab data fetch` fills)',
    );
  });
});

// The real MovieLens files; skipped unless COLLAB_DATA_DIR points at them.
const real = process.env.COLLAB_DATA_DIR ?? '';
const skip = real === '' ? 'COLLAB_DATA_DIR is not set' : false;

describe('real MovieLens data', { skip }, () => {
  test('ml-100k: 100000 ratings, 943 users, 1682 items, README histogram and mean', () => {
    const s = datasetStats(loadDataset('ml-100k', { dataDir: real }));
    assert.equal(s.ratings, 100000);
    assert.equal(s.users, 943);
    assert.equal(s.items, 1682);
    assert.deepEqual(s.histogram.map((b) => [b.from, b.count]), [[1, 6110], [2, 11370], [3, 27145], [4, 34174], [5, 21201]]);
    assert.ok(Math.abs(s.mean - 3.52986) < 1e-9);
    assert.deepEqual(s.timeRange && [s.timeRange.first, s.timeRange.last], [874724710, 893286638]);
    assert.equal(s.ratingsPerUser.min, 20);
    assert.equal(s.metadata.titles, 1682);
    assert.equal(s.metadata.demographics, 943);
  });

  test('ml-100k u.item is Latin-1: Misérables is decoded', () => {
    const d = loadDataset('ml-100k', { dataDir: real });
    const titles = [...d.items.values()].map((m) => m.title);
    assert.ok(titles.includes('Misérables, Les (1995)'));
  });

  test('ml-latest-small (CRLF): 100836 ratings, 610 users, 9724 items, README histogram and time range', () => {
    const d = loadDataset('ml-latest-small', { dataDir: real });
    const s = datasetStats(d);
    assert.equal(s.ratings, 100836);
    assert.equal(s.users, 610);
    assert.equal(s.items, 9724);
    assert.deepEqual(
      s.histogram.map((b) => b.count),
      [1370, 2811, 1791, 7551, 5550, 20047, 13136, 26818, 8551, 13211],
    );
    assert.ok(Math.abs(s.mean - 3.501556983616962) < 1e-9);
    assert.deepEqual(s.timeRange && [s.timeRange.first, s.timeRange.last], [828124615, 1537799250]);
    assert.equal(d.items.size, 9742);
    assert.equal(d.items.get(1)!.title, 'Toy Story (1995)');
    assert.ok(d.items.get(1)!.tags!.includes('pixar'));
  });

  test('split files by path: 80000 / 20000 and 80669 / 20167 rows', () => {
    for (const [split, train, valid] of [['ml-100k-seed42', 80000, 20000], ['ml-latest-small-seed42', 80669, 20167]] as const) {
      assert.equal(loadDataset(join(real, 'splits', split, 'train.csv')).ratings.ratings.length, train);
      assert.equal(loadDataset(join(real, 'splits', split, 'valid.csv')).ratings.ratings.length, valid);
    }
  });

  test('ml-1m here has no ratings.dat: a clear error, yet its metadata reads', () => {
    assert.throws(() => loadDataset('ml-1m', { dataDir: real }), /ml-1m is incomplete: ratings\.dat is missing \(the folder holds only README, movies\.dat, users\.dat\)/);
  });

  test('ml-1m metadata: 3883 Latin-1 movies, 6040 users with decoded codes', async () => {
    const { readMovieLensMetadata } = await import('./movielens.js');
    const meta = readMovieLensMetadata(join(real, 'ml-1m'), 'dat', { badRows: 0, badRowExamples: [], duplicates: 0 });
    assert.equal(meta.items.size, 3883);
    assert.equal(meta.users.size, 6040);
    assert.deepEqual(meta.users.get(1) as MovieLensUserMeta, { gender: 'F', zip: '48067', age: 1, ageRange: 'Under 18', occupation: 'K-12 student' });
    assert.ok([...meta.items.values()].some((m) => /é/.test(m.title)));
  });

  test('FilmTrust (space-separated, mixed CRLF/LF, no header) reads by path', () => {
    const d = loadDataset(join(real, 'filmtrust', 'ratings_0.txt'));
    assert.ok(d.ratings.ratings.length > 10000);
    assert.equal(d.ratings.timestamps, undefined);
  });
});
