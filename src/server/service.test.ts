import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sqliteTestDatabase } from './testing/databases.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';
import type { Recommender } from '../recommend/types.js';
import { CollabService, catalogueRows } from './service.js';
import { checkerboard } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { ModelRecommender } from '../recommend/recommender.js';

const rec = makeFactorRecommender({ seed: 3 });

test('the PCA map cache keeps only the most recently asked limits, however many distinct ones come', async () => {
  const t = sqliteTestDatabase();
  const store = await t.open();
  try {
    let computed = 0;
    const counting = { ...rec, movieMap: (limit: number) => (computed++, rec.movieMap(limit)) };
    const service = new CollabService(counting, store, { mapCacheSize: 3 });
    for (let limit = 2; limit <= 40; limit++) service.movieMap(limit);
    assert.equal(service.mapCacheEntries, 3);
    assert.equal(computed, 39);
    service.movieMap(40);
    assert.equal(computed, 39, 'a recent limit is served from the cache');
    service.movieMap(2);
    assert.equal(computed, 40, 'an old limit was dropped and is computed again');
    assert.equal(new CollabService(rec, store).mapCacheEntries, 0);
    // the catalogue has 40 movies: larger limits are the same map
    service.movieMap(41);
    service.movieMap(5000);
    assert.equal(computed, 40, 'limits past the catalogue share the full map');
  } finally {
    await store.close();
    await t.dispose();
  }
});

test('an unknown genre is refused the same way by browsing and both kinds of recommendations', async () => {
  const t = sqliteTestDatabase();
  const store = await t.open();
  try {
    const service = new CollabService(rec, store);
    const message = 'unknown genre "Nope"; known genres: action, adventure, animation, children, comedy, crime, drama, fantasy, horror, imax, musical, mystery, romance, sci-fi, thriller, war';
    const expected = { code: 'INVALID_OPTION', message, location: { field: 'query.genre' } };
    await assert.rejects(service.searchMovies({ genre: 'Nope' }), expected);
    await assert.rejects(service.recommendForUser(4, { genre: 'Nope' }), expected);
    assert.throws(() => service.recommendForRatings([{ movieId: 1, rating: 5 }], { genre: 'Nope' }), expected);
    service.checkGenre('COMEDY');
    service.checkGenre('');
  } finally {
    await store.close();
    await t.dispose();
  }
});

test("a known user's trained recommendations are computed once per options, and never hide a newer rating", async () => {
  const rec = makeFactorRecommender({ seed: 7 });
  let computed = 0;
  const counting: Recommender = Object.assign(Object.create(rec) as Recommender, {
    recommendForUser(...args: Parameters<Recommender['recommendForUser']>) {
      computed++;
      return rec.recommendForUser(...args);
    },
  });
  const db = sqliteTestDatabase();
  const store = await db.open();
  try {
    await store.importMovies(catalogueRows(rec));
    const service = new CollabService(counting, store);
    const first = await service.recommendForUser(1, { n: 5 });
    assert.equal(first.method, 'model');
    assert.deepEqual(await service.recommendForUser(1, { n: 5 }), first);
    assert.equal(computed, 1, 'the second answer came from the cache');
    assert.equal((await service.recommendForUser(1, { n: 3 })).items.length, 3);
    assert.equal(computed, 2, 'other options are another entry');

    await store.upsertRating(1, first.items[0]!.movieId, 1);
    const after = await service.recommendForUser(1, { n: 5 });
    assert.equal(after.method, 'fold-in', 'the stored rating is seen at once');
    assert.ok(!after.items.some((m) => m.movieId === first.items[0]!.movieId));

    await new CollabService(counting, store).recommendForUser(2, { n: 5 });
    await new CollabService(counting, store).recommendForUser(2, { n: 5 });
    assert.equal(computed, 4, 'a new service (a reloaded model) starts empty');
  } finally {
    await store.close();
    await db.dispose();
  }
});

test("a known user's recommendations leave out the database's ratings too (db import brings ones the model never trained on)", async () => {
  const { ratings, items } = checkerboard();
  const learner = collabLearner(ratings, undefined, { nFactors: 4, batchSize: 32, wd: 0.01, seed: 3 });
  await learner.fitOneCycle(3, 0.05);
  const model = new ModelRecommender({ model: learner.model, train: ratings, items, history: { epochs: learner.history } }, { minRatings: 0 });
  const db = sqliteTestDatabase();
  const store = await db.open();
  try {
    await store.importMovies(catalogueRows(model));
    const service = new CollabService(model, store);
    const n = ratings.itemIds.size;
    const before = await service.recommendForUser(1, { n });
    assert.equal(before.method, 'model');
    // the database knows user 1 rated the first three of them (ratings the model's file does not hold)
    const stored = before.items.slice(0, 3).map((m) => m.movieId);
    await store.importRatings(stored.map((movieId) => ({ userId: 1, movieId, rating: 4 })));
    const after = await service.recommendForUser(1, { n });
    assert.equal(after.method, 'model', 'imported ratings are not API ratings: still the trained vector');
    assert.deepEqual(after.items.map((m) => m.movieId), before.items.slice(3).map((m) => m.movieId));
    const all = await service.recommendForUser(1, { n, includeRated: true });
    assert.ok(stored.every((id) => all.items.some((m) => m.movieId === id)), 'includeRated offers them again');
  } finally {
    await store.close();
    await db.dispose();
    await learner.close();
  }
});
