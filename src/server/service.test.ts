import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Recommender } from '../recommend/types.js';
import { CollabService, catalogueRows } from './service.js';
import { sqliteTestDatabase } from './testing/databases.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';

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
