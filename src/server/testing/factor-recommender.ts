import { CollabError } from '../../core/errors.js';
import { RandomState } from '../../core/random.js';
import { IdMap, type RawId } from '../../data/id-map.js';
import { pca } from '../../maths/pca.js';
import { becauseOfContributions, becauseYouLiked } from '../../recommend/explain.js';
import { foldInContributions, foldInLinear } from '../../recommend/fold-in.js';
import { similarItems } from '../../recommend/similar.js';
import { topKForVector } from '../../maths/top-k.js';
import { scoreUserVector, userOf, type FactorScoring } from '../../models/scoring.js';
import type { GivenRating, MapPoint, MovieInfo, RecommendOptions, Recommender, ScoredItem } from '../../recommend/types.js';

/**
 * TEST SUPPORT ONLY: a real `Recommender` over random factor tables, so the service can be tested and
 * benchmarked before a trained model file can be loaded. Items of one genre share a random centroid and
 * each user leans to one genre, so "liked Toy Story → more Animation" holds and is testable.
 * Predictions are those of a dot-bias model: pred(u, i) = mu + b_u + b_i + p_u · q_i.
 */

/** A movie of the test catalogue. */
export interface CatalogueMovie {
  itemId: RawId;
  title: string;
  genres: string[];
  year?: number;
}

/** Options of `makeFactorRecommender`. */
export interface FactorRecommenderOptions {
  /** The catalogue. Default `tinyCatalogue()`. */
  movies?: CatalogueMovie[];
  /** Users of the "trained" model, raw ids 1..nUsers. Default 30. */
  nUsers?: number;
  /** Factors per row. Default 8. */
  nFactors?: number;
  /** Training ratings drawn per user. Default 12 (capped at the catalogue size). */
  ratingsPerUser?: number;
  /** Seed of the RandomState that draws everything. Default 0. */
  seed?: number;
}

/** A training rating with raw ids, as `collab db import` would store it. */
export interface TrainingRating {
  userId: RawId;
  itemId: RawId;
  rating: number;
}

/** The test recommender plus the training ratings it was "trained" on. */
export interface FactorRecommender extends Recommender {
  /** Every training rating, raw ids. */
  trainingRatings(): TrainingRating[];
}

/** Forty well-known MovieLens titles across a few genres (ids are ml-latest-small's). */
export function tinyCatalogue(): CatalogueMovie[] {
  const rows: [number, string, string][] = [
    [1, 'Toy Story (1995)', 'Adventure|Animation|Children|Comedy|Fantasy'],
    [2, 'Jumanji (1995)', 'Adventure|Children|Fantasy'],
    [3, 'Grumpier Old Men (1995)', 'Comedy|Romance'],
    [6, 'Heat (1995)', 'Action|Crime|Thriller'],
    [10, 'GoldenEye (1995)', 'Action|Adventure|Thriller'],
    [32, 'Twelve Monkeys (a.k.a. 12 Monkeys) (1995)', 'Mystery|Sci-Fi|Thriller'],
    [47, 'Seven (a.k.a. Se7en) (1995)', 'Mystery|Thriller'],
    [50, 'Usual Suspects, The (1995)', 'Crime|Mystery|Thriller'],
    [110, 'Braveheart (1995)', 'Action|Drama|War'],
    [150, 'Apollo 13 (1995)', 'Adventure|Drama|IMAX'],
    [260, 'Star Wars: Episode IV - A New Hope (1977)', 'Action|Adventure|Sci-Fi'],
    [296, 'Pulp Fiction (1994)', 'Comedy|Crime|Drama|Thriller'],
    [318, 'Shawshank Redemption, The (1994)', 'Crime|Drama'],
    [356, 'Forrest Gump (1994)', 'Comedy|Drama|Romance|War'],
    [364, 'Lion King, The (1994)', 'Adventure|Animation|Children|Drama|Musical|IMAX'],
    [480, 'Jurassic Park (1993)', 'Action|Adventure|Sci-Fi|Thriller'],
    [527, "Schindler's List (1993)", 'Drama|War'],
    [588, 'Aladdin (1992)', 'Adventure|Animation|Children|Comedy|Musical'],
    [589, 'Terminator 2: Judgment Day (1991)', 'Action|Sci-Fi'],
    [593, 'Silence of the Lambs, The (1991)', 'Crime|Horror|Thriller'],
    [595, 'Beauty and the Beast (1991)', 'Animation|Children|Fantasy|Musical|Romance|IMAX'],
    [858, 'Godfather, The (1972)', 'Crime|Drama'],
    [1036, 'Die Hard (1988)', 'Action|Crime|Thriller'],
    [1196, 'Star Wars: Episode V - The Empire Strikes Back (1980)', 'Action|Adventure|Sci-Fi'],
    [1198, 'Raiders of the Lost Ark (Indiana Jones and the Raiders of the Lost Ark) (1981)', 'Action|Adventure'],
    [1210, 'Star Wars: Episode VI - Return of the Jedi (1983)', 'Action|Adventure|Sci-Fi'],
    [1270, 'Back to the Future (1985)', 'Adventure|Comedy|Sci-Fi'],
    [1721, 'Titanic (1997)', 'Drama|Romance'],
    [2028, 'Saving Private Ryan (1998)', 'Action|Drama|War'],
    [2355, "Bug's Life, A (1998)", 'Adventure|Animation|Children|Comedy'],
    [2571, 'Matrix, The (1999)', 'Action|Sci-Fi|Thriller'],
    [2858, 'American Beauty (1999)', 'Drama|Romance'],
    [2959, 'Fight Club (1999)', 'Action|Crime|Drama|Thriller'],
    [3114, 'Toy Story 2 (1999)', 'Adventure|Animation|Children|Comedy|Fantasy'],
    [4306, 'Shrek (2001)', 'Adventure|Animation|Children|Comedy|Fantasy|Romance'],
    [4993, 'Lord of the Rings: The Fellowship of the Ring, The (2001)', 'Adventure|Fantasy'],
    [6377, 'Finding Nemo (2003)', 'Adventure|Animation|Children|Comedy'],
    [7153, 'Lord of the Rings: The Return of the King, The (2003)', 'Action|Adventure|Drama|Fantasy'],
    [8961, 'Incredibles, The (2004)', 'Action|Adventure|Animation|Children|Comedy'],
    [79132, 'Inception (2010)', 'Action|Crime|Drama|Mystery|Sci-Fi|Thriller|IMAX'],
  ];
  return rows.map(([itemId, title, genres]) => {
    const year = /\((\d{4})\)\s*$/.exec(title);
    return { itemId, title, genres: genres.split('|'), ...(year ? { year: Number(year[1]) } : {}) };
  });
}

/** A synthetic catalogue of n movies named "Movie <id>" with a cycling genre (benchmarks). */
export function syntheticCatalogue(n: number): CatalogueMovie[] {
  const genres = ['Action', 'Animation', 'Comedy', 'Drama', 'Horror', 'Romance', 'Sci-Fi', 'Thriller'];
  const out: CatalogueMovie[] = [];
  for (let t = 0; t < n; t++) out.push({ itemId: t + 1, title: `Movie ${t + 1} (${1950 + (t % 70)})`, genres: [genres[t % genres.length]!], year: 1950 + (t % 70) });
  return out;
}

const RATING_LO = 0.5;
const RATING_HI = 5;

/** Builds the test recommender; everything is drawn from one seeded RandomState. */
export function makeFactorRecommender(options: FactorRecommenderOptions = {}): FactorRecommender {
  const movies = options.movies ?? tinyCatalogue();
  const nUsers = options.nUsers ?? 30;
  const k = options.nFactors ?? 8;
  const rng = new RandomState(options.seed ?? 0);
  const nItems = movies.length;
  const itemIds = IdMap.fromIds(movies.map((m) => m.itemId));
  const userIds = IdMap.fromIds(Array.from({ length: nUsers }, (_, u) => u + 1));

  // one centroid per genre; an item is the mean of its genres' centroids plus noise
  const genreNames = [...new Set(movies.flatMap((m) => m.genres))];
  const centroid = new Map<string, Float32Array>();
  for (const g of genreNames) centroid.set(g, Float32Array.from({ length: k }, () => rng.normal()));
  const q = new Float32Array(nItems * k);
  const bi = new Float32Array(nItems);
  for (let i = 0; i < nItems; i++) {
    const gs = movies[i]!.genres;
    for (let f = 0; f < k; f++) {
      let s = 0;
      for (const g of gs) s += centroid.get(g)![f]!;
      q[i * k + f] = (0.5 * s) / Math.max(gs.length, 1) + 0.15 * rng.normal();
    }
    bi[i] = 0.3 * rng.normal();
  }
  // each user leans to one genre
  const p = new Float32Array(nUsers * k);
  const bu = new Float32Array(nUsers);
  for (let u = 0; u < nUsers; u++) {
    const c = centroid.get(genreNames[u % genreNames.length]!)!;
    for (let f = 0; f < k; f++) p[u * k + f] = 0.5 * c[f]! + 0.2 * rng.normal();
    bu[u] = 0.2 * rng.normal();
  }
  const mu = 3.5;
  // scored as an mf model is (no link), by the one score function every factor model uses
  const scoring: FactorScoring = { k, P: p, Q: q, bu, bi, offset: mu, yRange: undefined, clip: [-Infinity, Infinity] };

  // training ratings: each user rates a random subset, rating = clip(round2(pred + noise))
  const perUser = Math.min(options.ratingsPerUser ?? 12, nItems);
  const rated: Int32Array[] = [];
  const ratedValues: Float32Array[] = [];
  const preds = new Float64Array(perUser);
  const count = new Int32Array(nItems);
  const sum = new Float64Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    const items = rng.permutation(nItems).subarray(0, perUser).slice().sort();
    const values = new Float32Array(perUser);
    const user = userOf(scoring, u);
    scoreUserVector(scoring, user.vector, user.bias, values, preds, items);
    for (let t = 0; t < perUser; t++) {
      const i = items[t]!;
      values[t] = Math.min(RATING_HI, Math.max(RATING_LO, Math.round(2 * (preds[t]! + 0.3 * rng.normal())) / 2));
      count[i]!++;
      sum[i]! += values[t]!;
    }
    rated.push(items);
    ratedValues.push(values);
  }
  const catalogue: MovieInfo[] = movies.map((m, i) => ({ ...m, ratingCount: count[i]!, meanRating: count[i]! > 0 ? sum[i]! / count[i]! : 0 }));

  const scored = (items: Int32Array, scores: Float32Array, liked?: { items: Int32Array; values: Float32Array; contributionsOf?: (item: number) => Float64Array }): ScoredItem[] => {
    const out: ScoredItem[] = [];
    for (let t = 0; t < items.length; t++) {
      const m = catalogue[items[t]!]!;
      const item: ScoredItem = { itemId: m.itemId, title: m.title, genres: m.genres, ...(m.year !== undefined ? { year: m.year } : {}), score: scores[t]! };
      if (liked) {
        const i = items[t]!;
        const because = liked.contributionsOf ? becauseOfContributions(q, k, i, liked.items, liked.values, liked.contributionsOf(i)) : becauseYouLiked(q, k, i, liked.items, liked.values);
        item.because = because.map((r) => ({
          itemId: catalogue[r.item]!.itemId,
          title: catalogue[r.item]!.title,
          similarity: r.similarity,
          rating: r.rating,
        }));
      }
      out.push(item);
    }
    return out;
  };

  /** Ascending indices to leave out: rated items (unless asked) and items failing the filters. */
  const exclusions = (ratedItems: Int32Array, o: RecommendOptions): Int32Array => {
    // no filters: the rated items are already ascending
    if (o.genre === undefined && o.yearFrom === undefined && o.yearTo === undefined && (o.minRatings ?? 0) <= 0) return o.includeRated === true ? new Int32Array(0) : ratedItems;
    const out = new Uint8Array(nItems);
    if (o.includeRated !== true) for (const i of ratedItems) out[i] = 1;
    const genre = o.genre?.toLowerCase();
    for (let i = 0; i < nItems; i++) {
      const m = catalogue[i]!;
      if (genre !== undefined && !m.genres.some((g) => g.toLowerCase() === genre)) out[i] = 1;
      if (o.yearFrom !== undefined && (m.year === undefined || m.year < o.yearFrom)) out[i] = 1;
      if (o.yearTo !== undefined && (m.year === undefined || m.year > o.yearTo)) out[i] = 1;
      if (m.ratingCount < (o.minRatings ?? 0)) out[i] = 1;
    }
    const list: number[] = [];
    for (let i = 0; i < nItems; i++) if (out[i] === 1) list.push(i);
    return Int32Array.from(list);
  };

  const recommend = (vector: Float32Array, userBias: number, ratedItems: Int32Array, values: Float32Array, o: RecommendOptions, contributionsOf?: (item: number) => Float64Array): ScoredItem[] => {
    const exclude = exclusions(ratedItems, o);
    if (exclude.length === nItems) return [];
    const top = topKForVector(vector, scoring.Q, o.n ?? 10, { userBias, itemBias: scoring.bi!, offset: scoring.offset, exclude });
    return scored(top.items, top.scores, o.explain === true ? { items: ratedItems, values, ...(contributionsOf ? { contributionsOf } : {}) } : undefined);
  };

  return {
    info: {
      kind: 'dotbias (test factors)',
      config: { nFactors: k, seed: options.seed ?? 0, note: 'random factors for tests, not a trained model' },
      // the shape a trained model file has: one record per epoch and the loss of every minibatch
      history: {
        epochs: [1.2, 0.95, 0.84, 0.79, 0.76].map((trainLoss, epoch) => ({ epoch, trainLoss, validMse: [1.05, 0.92, 0.87, 0.85, 0.85][epoch]!, validRmse: Math.sqrt([1.05, 0.92, 0.87, 0.85, 0.85][epoch]!) })),
        batchLosses: Array.from({ length: 500 }, (_, b) => 0.7 + 0.9 * Math.exp(-b / 80) + 0.25 * Math.sin(b * 12.9898) ** 2),
      },
      nUsers,
      nItems,
      yRange: [0, 5.5],
    },
    movies: () => catalogue,
    movie: (itemId) => {
      const i = itemIds.indexOf(itemId);
      return i < 0 ? undefined : catalogue[i];
    },
    hasUser: (userId) => userIds.has(userId),
    recommendForUser(userId, o = {}) {
      const u = userIds.lookup(userId, 'error', 'user');
      return recommend(p.subarray(u * k, (u + 1) * k), bu[u]!, rated[u]!, ratedValues[u]!, o);
    },
    recommendForRatings(given: GivenRating[], o = {}) {
      const pairs = given.map((g, t) => {
        if (!Number.isFinite(g.rating) || g.rating < RATING_LO || g.rating > RATING_HI) {
          throw new CollabError('INVALID_OPTION', `rating ${t} is ${g.rating}; ratings go from ${RATING_LO} to ${RATING_HI}`, { field: 'rating' });
        }
        return [itemIds.lookup(g.itemId, 'error', 'item'), g.rating] as const;
      });
      pairs.sort((a, b) => a[0] - b[0]);
      const items = Int32Array.from(pairs, (x) => x[0]);
      const values = Float32Array.from(pairs, (x) => x[1]);
      const fit = foldInLinear(q, k, items, values, { itemBias: bi, offset: mu, lambda: 1 });
      return recommend(fit.userVector, fit.userBias, items, values, o, o.explain ? foldInContributions(q, k, items, values, { itemBias: bi, offset: mu, lambda: 1 }) : undefined);
    },
    similarItems(itemId, n = 10) {
      const i = itemIds.lookup(itemId, 'error', 'item');
      const top = similarItems(q, k, i, Math.min(n, nItems - 1));
      return scored(top.items, top.scores);
    },
    movieMap(limit = 500): MapPoint[] {
      const order = Int32Array.from(catalogue.keys()).sort((a, b) => catalogue[b]!.ratingCount - catalogue[a]!.ratingCount || a - b);
      const rows = order.subarray(0, Math.min(limit, nItems));
      const res = pca(q, nItems, k, 2, { rows });
      return Array.from(rows, (i, t) => ({
        itemId: catalogue[i]!.itemId,
        title: catalogue[i]!.title,
        x: res.coordinates[t * 2]!,
        y: res.coordinates[t * 2 + 1]!,
        ratingCount: catalogue[i]!.ratingCount,
      }));
    },
    trainingRatings() {
      const out: TrainingRating[] = [];
      for (let u = 0; u < nUsers; u++) {
        for (let t = 0; t < rated[u]!.length; t++) out.push({ userId: userIds.idOf(u), itemId: catalogue[rated[u]![t]!]!.itemId, rating: ratedValues[u]![t]! });
      }
      return out;
    },
  };
}
