import assert from 'node:assert/strict';
import test from 'node:test';
import { IdMap } from '../data/id-map.js';
import type { ItemMeta } from '../data/ratings.js';
import { ageBucket, buildItemFeatures, buildUserFeatures, itemFeatureNames, parseFeatureKinds, titleWords, userFeatureNames, yearBucket, ITEM_FEATURE_KINDS } from './hybrid-features.js';

test('buckets and title words', () => {
  assert.deepEqual([7, 18, 24, 25, 44, 49, 50, 56, 73].map(ageBucket), [
    'age:<18', 'age:18-24', 'age:18-24', 'age:25-34', 'age:35-44', 'age:45-49', 'age:50-55', 'age:56+', 'age:56+',
  ]);
  assert.deepEqual([1939, 1968, 1970, 1995, 1999, 2004].map(yearBucket), ['year:1930s', 'year:1960s', 'year:1970-1974', 'year:1995-1999', 'year:1995-1999', 'year:2000-2004']);
  assert.deepEqual(titleWords('The Lord of the Rings: The Two Towers (2002)'), ['lord', 'rings', 'two', 'towers']);
  assert.deepEqual(userFeatureNames({ age: 24, gender: 'M', occupation: 'technician', zip: '85711' }, ['age', 'gender', 'occupation', 'zip']), [
    'age:18-24', 'gender:M', 'occupation:technician', 'zip:8',
  ]);
  assert.deepEqual(userFeatureNames({ zip: 'T8H1N' }, ['zip']), ['zip:other']);
  const toy: ItemMeta = { title: 'Toy Story (1995)', genres: ['Animation', 'Comedy'], year: 1995, tags: ['pixar', 'fun'] };
  assert.deepEqual(itemFeatureNames(toy, ITEM_FEATURE_KINDS), ['genre:Animation', 'genre:Comedy', 'year:1995-1999', 'tag:pixar', 'tag:fun', 'word:toy', 'word:story']);
});

test('feature tables keep features shared by minCount entities, weighted 1/|features| per entity', () => {
  const ids = IdMap.fromIds([1, 2, 3]);
  const items = new Map<number, ItemMeta>([
    [1, { title: 'A (1995)', genres: ['Comedy', 'Drama'], year: 1995 }],
    [2, { title: 'B (1996)', genres: ['Comedy'], year: 1996 }],
    [3, { title: 'C (1980)', genres: ['Horror'], year: 1980 }],
  ]);
  const t = buildItemFeatures(ids, items, ['genres', 'year']);
  assert.deepEqual(t.names, ['genre:Comedy', 'year:1995-1999']);
  assert.deepEqual(t.offsets, [0, 2, 4, 4]);
  assert.deepEqual(t.indices, [0, 1, 0, 1]);
  assert.deepEqual(t.weights, [0.5, 0.5, 0.5, 0.5]);
  assert.equal(buildItemFeatures(ids, items, ['genres'], { minCount: 1 }).names.length, 3);
  assert.throws(() => buildUserFeatures(ids, new Map(), ['age']), /user features age need demographics, but this dataset has none/);
});

test('parseFeatureKinds names the flag and the allowed values', () => {
  assert.deepEqual(parseFeatureKinds('genres, tags,genres', ITEM_FEATURE_KINDS, 'item-features'), ['genres', 'tags']);
  assert.deepEqual(parseFeatureKinds('none', ITEM_FEATURE_KINDS, 'item-features'), []);
  assert.throws(() => parseFeatureKinds('genres,actors', ITEM_FEATURE_KINDS, 'item-features'), /--item-features has unknown feature "actors"; use a comma list of genres, year, tags, title \(or none\)/);
});
