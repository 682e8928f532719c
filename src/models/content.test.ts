import assert from 'node:assert/strict';
import test from 'node:test';
import { IdMap } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { ContentModel, tfidfVectors } from './content.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const S = Math.SQRT1_2;

// Movies 1..5: A Comedy, B Comedy+Drama, C Drama, D Horror, E Comedy (E is never rated: a new movie).
const META = new Map<number, ItemMeta>([
  [1, { title: 'A (1990)', genres: ['Comedy'] }],
  [2, { title: 'B (1990)', genres: ['Comedy', 'Drama'] }],
  [3, { title: 'C (1990)', genres: ['Drama'] }],
  [4, { title: 'D (1990)', genres: ['Horror'] }],
  [5, { title: 'E (1990)', genres: ['Comedy'] }],
]);

function ratings(): Ratings {
  const userIds = new IdMap();
  const itemIds = IdMap.fromIds([1, 2, 3, 4, 5]);
  const rows: [number, number, number][] = [[1, 1, 5], [1, 3, 1], [2, 1, 4], [2, 2, 4], [2, 4, 2], [3, 2, 5], [3, 3, 3]];
  return {
    users: Int32Array.from(rows, (r) => userIds.addInt(r[0])),
    items: Int32Array.from(rows, (r) => itemIds.indexOf(r[1])),
    ratings: Float32Array.from(rows, (r) => r[2]),
    userIds,
    itemIds,
  };
}

test('TF-IDF vectors worked by hand: idf = ln(N / df), rows L2-normalised', () => {
  const genres = [['Comedy'], ['Comedy', 'Drama'], ['Drama'], ['Horror']];
  const v = tfidfVectors(4, (i) => genres[i]!, 1);
  assert.deepEqual(v.featureNames, ['Comedy', 'Drama', 'Horror']);
  close(v.idf[0]!, Math.log(2));
  close(v.idf[2]!, Math.log(4));
  assert.deepEqual(Array.from(v.offsets), [0, 1, 3, 4, 5]);
  assert.deepEqual(Array.from(v.indices), [0, 0, 1, 1, 2]);
  for (const [t, want] of [1, S, S, 1, 1].entries()) close(v.values[t]!, want);
  // a feature on every movie has idf 0 and is left out; minCount drops rare ones
  const all = tfidfVectors(2, () => ['x', 'y'], 1);
  assert.equal(all.indices.length, 0);
  assert.deepEqual(tfidfVectors(4, (i) => genres[i]!, 2).featureNames, ['Comedy', 'Drama']);
});

test('cosine similarity, similar movies, profile scores', () => {
  const m = ContentModel.fit(ratings(), META, { features: ['genres'], minCount: 1 });
  // idf over 5 movies: Comedy ln(5/3), Drama ln(5/2), Horror ln 5
  const c = Math.log(5 / 3);
  const d = Math.log(5 / 2);
  const bC = c / Math.hypot(c, d);
  close(m.similarity(0, 1), bC);
  close(m.similarity(0, 4), 1);
  close(m.similarity(0, 2), 0);
  assert.deepEqual(Array.from(m.similarItems(0, 2).items), [4, 1]);
  // user who rated A 5 and C 1: profile = 2 v_A - 2 v_C = (2, -2, 0) on (Comedy, Drama, Horror)
  const profile = m.userProfile(Int32Array.of(0, 2), Float32Array.of(5, 1));
  assert.deepEqual(Array.from(profile), [2, -2, 0]);
  const s = m.scoreProfile(profile);
  close(s[0]!, S);
  close(s[2]!, -S);
  close(s[3]!, 0);
  close(s[1]!, (2 * bC - 2 * (d / Math.hypot(c, d))) / (2 * Math.SQRT2));
  assert.deepEqual(m.describeItem(1).map((f) => f.feature), ['genre:Drama', 'genre:Comedy']);
});

test('rating prediction: baseline plus content-weighted deviations; a new movie gets its bias from its content neighbours', () => {
  const m = ContentModel.fit(ratings(), META, { features: ['genres'], minCount: 1, shrink: 1, biasShrink: 1 });
  const { mu } = m.baseline;
  const b = m.baseline.itemBias;
  // E (index 4) was never rated: b̂_E = (s_EA b_A + s_EB b_B) / (s_EA + s_EB + 1); C and D share nothing with E
  const sA = m.similarity(4, 0);
  const sB = m.similarity(4, 1);
  close(m.itemBias[4]!, (sA * b[0]! + sB * b[1]!) / (sA + sB + 1));
  assert.notEqual(m.itemBias[4], 0);
  for (const i of [0, 1, 2, 3]) assert.equal(m.itemBias[i], b[i]);
  // no ratings: mu + b̂_i
  const none = m.predictForRatings(new Int32Array(0), new Float32Array(0), Int32Array.of(0, 4));
  close(none[0]!, mu + b[0]!);
  close(none[1]!, mu + m.itemBias[4]!);
  // a new user who gave A 5 and C 1, predicting B
  const items = Int32Array.of(0, 2);
  const values = Float32Array.of(5, 1);
  const bu = (5 - mu - b[0]! + (1 - mu - b[2]!)) / (15 + 2);
  close(m.userBiasFor(items, values), bu);
  const s0 = m.similarity(1, 0);
  const s2 = m.similarity(1, 2);
  const dev = (s0 * (5 - mu - bu - b[0]!) + s2 * (1 - mu - bu - b[2]!)) / (s0 + s2 + 1);
  close(m.predictForRatings(items, values, Int32Array.of(1))[0]!, mu + bu + b[1]! + dev, 1e-5);
  // a known user's prediction uses their training ratings
  const { items: ri, ratings: rv } = m.ratingsOf(0);
  assert.deepEqual(Array.from(ri), [0, 2]);
  close(m.predict(0, 1), m.predictForRatings(ri, rv, Int32Array.of(1))[0]!);
});

test('the neighbour cap M keeps only the M most similar rated movies', () => {
  const one = ContentModel.fit(ratings(), META, { features: ['genres'], minCount: 1, neighbours: 1 });
  const all = ContentModel.fit(ratings(), META, { features: ['genres'], minCount: 1, neighbours: 40 });
  // user 2 rated A, B, D: for E, A (s = 1) is the single neighbour under M = 1; B also counts under M = 40
  const a = one.predictForRatings(Int32Array.of(0, 1, 3), Float32Array.of(4, 4, 2), Int32Array.of(4))[0]!;
  const b = all.predictForRatings(Int32Array.of(0, 1, 3), Float32Array.of(4, 4, 2), Int32Array.of(4))[0]!;
  assert.notEqual(a, b);
});

test('a dataset without metadata is refused with what to do', () => {
  assert.throws(() => ContentModel.fit(ratings(), new Map()), /a content model needs movie metadata \(titles, genres, tags\), but this dataset has none; load a MovieLens folder/);
});
