import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap } from './id-map.js';
import type { Dataset } from './ratings.js';
import { datasetStats, formatStats } from './stats.js';

/** A dataset from (user, item, rating, time) tuples. */
function dataset(rows: [number, number, number, number][], extra: Partial<Dataset> = {}): Dataset {
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const n = rows.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = new Float64Array(n);
  rows.forEach(([u, i, r, t], k) => {
    users[k] = userIds.add(u);
    items[k] = itemIds.add(i);
    ratings[k] = r;
    timestamps[k] = t;
  });
  return {
    name: 'tiny',
    source: 'memory',
    ratings: { users, items, ratings, timestamps, userIds, itemIds },
    items: new Map(),
    users: new Map(),
    report: { badRows: 0, badRowExamples: [], duplicates: 0 },
    ...extra,
  };
}

test('hand-worked tiny dataset: counts, density, mean, histogram, per-user/item, time range', () => {
  // user 1 rated items 10 and 20, user 2 rated item 10: 3 of 2 × 2 cells.
  const s = datasetStats(dataset([[1, 10, 4, 86400], [1, 20, 5, 2 * 86400], [2, 10, 3, 0]]));
  assert.equal(s.ratings, 3);
  assert.equal(s.users, 2);
  assert.equal(s.items, 2);
  assert.equal(s.density, 0.75);
  assert.deepEqual(s.scale, { min: 3, max: 5 });
  assert.equal(s.mean, 4);
  assert.ok(Math.abs(s.std - Math.sqrt(2 / 3)) < 1e-12);
  assert.deepEqual(s.histogram, [{ from: 3, to: 3, count: 1 }, { from: 4, to: 4, count: 1 }, { from: 5, to: 5, count: 1 }]);
  assert.deepEqual(s.ratingsPerUser, { min: 1, median: 1.5, max: 2, mean: 1.5 });
  assert.deepEqual(s.ratingsPerItem, { min: 1, median: 1.5, max: 2, mean: 1.5 });
  assert.deepEqual(s.timeRange, { first: 0, last: 172800, firstDate: '1970-01-01', lastDate: '1970-01-03' });
  assert.deepEqual(s.metadata, { titles: 0, genres: 0, years: 0, tags: 0, links: 0, demographics: 0 });
});

test('ratings off the half-star grid get ten equal bins that add up to the count', () => {
  const rows: [number, number, number, number][] = [];
  for (let k = 0; k < 100; k++) rows.push([k, 1, k / 10 + 0.01, 0]);
  const s = datasetStats(dataset(rows));
  assert.equal(s.histogram.length, 10);
  assert.equal(s.histogram.reduce((a, b) => a + b.count, 0), 100);
  assert.ok(Math.abs(s.histogram[0]!.from - 0.01) < 1e-6);
  assert.ok(Math.abs(s.histogram[9]!.to - 9.91) < 1e-6);
});

test('metadata coverage counts only rated items and users', () => {
  const items = new Map([
    [10, { title: 'A (1999)', genres: ['Drama'], year: 1999, tags: ['x'], imdbId: '1' }],
    [20, { title: 'B', genres: [] }],
    [99, { title: 'Unrated', genres: ['Drama'] }],
  ]);
  const users = new Map([[1, { age: 30 }]]);
  const s = datasetStats(dataset([[1, 10, 4, 0], [2, 20, 5, 0]], { items, users }));
  assert.deepEqual(s.metadata, { titles: 2, genres: 1, years: 1, tags: 1, links: 1, demographics: 1 });
});

test('the human table names each figure', () => {
  const lines = formatStats(datasetStats(dataset([[1, 10, 4, 0], [2, 10, 3.5, 0]])));
  assert.equal(lines[1], 'ratings     2');
  assert.equal(lines[2], 'users       2');
  assert.equal(lines[3], 'items       1');
  assert.ok(lines.some((l) => l.startsWith('histogram')));
  assert.ok(lines.some((l) => /^\s+3\.5\s+1\s+#+$/.test(l)));
});
