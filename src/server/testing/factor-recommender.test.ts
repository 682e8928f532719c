import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollabError } from '../../core/errors.js';
import { makeFactorRecommender, syntheticCatalogue, tinyCatalogue } from './factor-recommender.js';

test('the test recommender: Toy Story fans get its genres, fold-in follows the ratings, errors are CollabErrors', () => {
  const rec = makeFactorRecommender();
  assert.equal(rec.movies().length, tinyCatalogue().length);
  assert.equal(rec.trainingRatings().length, 30 * 12);
  const kids = rec.recommendForRatings([{ itemId: 1, rating: 5 }, { itemId: 3114, rating: 5 }, { itemId: 588, rating: 5 }, { itemId: 858, rating: 1 }], { n: 5, explain: true });
  const toyStory = new Set(rec.movie(1)!.genres);
  for (const m of kids) assert.ok(m.genres.filter((g) => toyStory.has(g)).length >= 2, `${m.title} shares two genres with Toy Story`);
  assert.ok(kids.every((m) => ![1, 3114, 588, 858].includes(m.itemId as number)));
  assert.ok(kids[0]!.because!.length > 0 && kids[0]!.because!.every((b) => b.rating >= 4));
  const noir = rec.recommendForRatings([{ itemId: 1, rating: 1 }, { itemId: 858, rating: 5 }, { itemId: 50, rating: 5 }], { n: 5 });
  assert.notDeepEqual(noir.map((m) => m.itemId), kids.map((m) => m.itemId));
  assert.ok(rec.recommendForUser(1, { genre: 'drama', n: 40 }).every((m) => m.genres.includes('Drama')));
  assert.throws(() => rec.recommendForUser(999), (e: unknown) => e instanceof CollabError && e.code === 'UNKNOWN_USER');
  assert.throws(() => rec.similarItems(999), (e: unknown) => e instanceof CollabError && e.code === 'UNKNOWN_ITEM');
  assert.throws(() => rec.recommendForRatings([{ itemId: 1, rating: 7 }]), /rating 0 is 7; ratings go from 0.5 to 5/);
  assert.equal(rec.movieMap(10).length, 10);
  assert.equal(makeFactorRecommender({ movies: syntheticCatalogue(100), nFactors: 4 }).info.nItems, 100);
});
