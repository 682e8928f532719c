import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { catalogueIdentity, datasetIdentity, requireConsistentTitles, requireSameDataset } from './identity.js';
import type { RawId } from './id-map.js';
import type { ItemMeta } from './ratings.js';

const meta = (title: string) => ({ title, genres: [] });

test('a dataset identity hashes its sorted catalogue ids; a bare ratings file has none', () => {
  const sha = createHash('sha256').update('collab-catalogue-v1\n10\n2\nx\n').digest('hex');
  assert.deepEqual(datasetIdentity({ name: 'd', items: new Map<RawId, ItemMeta>([[2, meta('b')], ['x', meta('x')], [10, meta('a')]]) }), { name: 'd', items: 3, catalogueSha256: sha });
  assert.deepEqual(catalogueIdentity('other name', [10, 'x', 2]).catalogueSha256, sha, 'order and name do not matter');
  assert.equal(datasetIdentity({ name: 'ratings.csv', items: new Map() }), undefined);
});

test('requireSameDataset refuses another catalogue, naming both, and lets unknown ones pass', () => {
  const a = catalogueIdentity('ml-100k', [1, 2, 3]);
  const b = catalogueIdentity('ml-latest-small', [1, 2, 4]);
  const what = { have: 'the model was trained on', given: '--data x is', file: 'm.json', override: '--force-dataset' };
  assert.throws(() => requireSameDataset(a, b, what), {
    code: 'CATALOGUE_MISMATCH',
    message: `m.json: the model was trained on ml-100k (3 movies, catalogue ${a.catalogueSha256.slice(0, 12)}) but --data x is ml-latest-small (3 movies, catalogue ${b.catalogueSha256.slice(0, 12)}): the same movie ids name other films there; use matching data, or pass --force-dataset if they really are the same catalogue`,
  });
  requireSameDataset(a, catalogueIdentity('copy', [3, 2, 1]), what);
  requireSameDataset(undefined, b, what);
  requireSameDataset(a, undefined, what);
});

test('requireConsistentTitles allows up to 5% renamed movies and placeholder titles, not more', () => {
  const have = Array.from({ length: 40 }, (_, k) => ({ movieId: k, title: `Film ${k}` }));
  const what = { have: 'the database', given: 'the model', override: '--force-dataset' };
  const renamed = (n: number) => have.map((m, k) => (k < n ? { ...m, title: `Other ${k}` } : m));
  requireConsistentTitles(have, renamed(2), what);
  requireConsistentTitles(have, have.map((m) => ({ ...m, title: `Movie ${String(m.movieId)}` })), what);
  assert.throws(() => requireConsistentTitles(have, renamed(3), what), {
    code: 'CATALOGUE_MISMATCH',
    message: '3 of the 40 movies the database and the model share have other titles (movie 0 is "Film 0" in the database, "Other 0" in the model): they hold different datasets; use matching data, or pass --force-dataset to overwrite the titles',
  });
});
