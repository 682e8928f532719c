import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollabService } from './service.js';
import { sqliteTestDatabase } from './testing/databases.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';

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
