import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../data/load.js';
import { randomSplit } from '../data/split.js';
import { collabLearner } from '../train/learner.js';

const dataDir = process.env.COLLAB_DATA_DIR;
const missing = dataDir === undefined ? 'COLLAB_DATA_DIR is not set' : existsSync(join(dataDir, 'ml-latest-small', 'movies.csv')) ? undefined : 'ml-latest-small is not in COLLAB_DATA_DIR';

test('a visitor who gave 5 stars to Toy Story, Finding Nemo and Shrek sees mostly family and animated films', { skip: missing ? `visitor content test skipped: ${missing}` : false }, async () => {
  const ds = loadDataset('ml-latest-small', { dataDir: dataDir! });
  const { train, valid } = randomSplit(ds.ratings, { validPct: 0.2, seed: 42 });
  const learn = collabLearner(train, valid, { model: 'dotbias', seed: 42 });
  await learn.fitOneCycle(2, 4e-3);
  const family = (genres: string[]): boolean => genres.includes('Children') || genres.includes('Animation');
  const visitor = [1, 6377, 4306].map((itemId) => ({ itemId, rating: 5 }));
  const withContent = learn.recommender({ items: ds.items }).recommendForRatings(visitor, { n: 10 });
  const without = learn.recommender({ items: ds.items, contentWeight: 0 }).recommendForRatings(visitor, { n: 10 });
  const count = (items: { genres: string[] }[]): number => items.filter((m) => family(m.genres)).length;
  assert.ok(count(withContent) >= 6, `family films: ${withContent.map((m) => m.title).join('; ')}`);
  assert.ok(count(without) < count(withContent), 'the content term is what brings them');
  learn.close?.();
});
