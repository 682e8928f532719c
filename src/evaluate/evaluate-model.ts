import { requireInt, requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { TrainedModel } from '../io/trained-model.js';
import { ModelRecommender } from '../recommend/recommender.js';
import { rankingReport, type RankingReport } from './ranking-metrics.js';

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Length of the ranked lists. Default 10. */
  k?: number;
  /** A test rating ≥ threshold makes the movie relevant. Default 4. */
  threshold?: number;
  /** Skip the ranking metrics (they score every movie for every test user). Default false. */
  ratingOnly?: boolean;
}

/** Rating and ranking accuracy of a model on test ratings. */
export interface EvaluationResult {
  /** Test ratings scored. */
  n: number;
  mse: number;
  rmse: number;
  mae: number;
  /** Test ratings whose user or movie the model never saw: predicted as the training mean. */
  unknown: { ratings: number; fallback: 'training mean'; fallbackValue: number };
  ranking?: RankingReport & { threshold: number };
}

/**
 * Scores a trained model on test ratings read with their own id maps (raw ids are matched to the model's).
 * Ratings: every test rating; a pair with an unknown user or movie is predicted as the training mean and
 * counted. Ranking: for each test user the model knows, the top k among all movies the user did not rate
 * in training, against the user's test movies rated ≥ threshold.
 */
export function evaluateModel(trained: TrainedModel, test: Ratings, options: EvaluateOptions = {}): EvaluationResult {
  const k = requireInt('k', options.k ?? 10, 1);
  const threshold = requireNumber('threshold', options.threshold ?? 4);
  const { model, train } = trained;
  const n = test.ratings.length;
  let mean = 0;
  for (let r = 0; r < train.ratings.length; r++) mean += train.ratings[r]!;
  mean = train.ratings.length ? mean / train.ratings.length : 0;

  // Test rows → model indices (-1 when unknown).
  const userOf = new Int32Array(test.userIds.size);
  for (let u = 0; u < userOf.length; u++) userOf[u] = train.userIds.indexOf(test.userIds.idOf(u));
  const itemOf = new Int32Array(test.itemIds.size);
  for (let i = 0; i < itemOf.length; i++) itemOf[i] = train.itemIds.indexOf(test.itemIds.idOf(i));
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  let unknown = 0;
  for (let r = 0; r < n; r++) {
    users[r] = userOf[test.users[r]!]!;
    items[r] = itemOf[test.items[r]!]!;
    if (users[r]! < 0 || items[r]! < 0) {
      unknown++;
      users[r] = 0;
      items[r] = 0;
    }
  }
  const pred = new Float32Array(n);
  model.predictMany(users, items, pred);
  let se = 0;
  let ae = 0;
  for (let r = 0; r < n; r++) {
    const known = userOf[test.users[r]!]! >= 0 && itemOf[test.items[r]!]! >= 0;
    const err = (known ? pred[r]! : mean) - test.ratings[r]!;
    se += err * err;
    ae += Math.abs(err);
  }
  const result: EvaluationResult = {
    n,
    mse: se / n,
    rmse: Math.sqrt(se / n),
    mae: ae / n,
    unknown: { ratings: unknown, fallback: 'training mean', fallbackValue: mean },
  };
  if (!options.ratingOnly) {
    const relevant: (Set<number> | undefined)[] = new Array(model.nUsers);
    for (let r = 0; r < n; r++) {
      const u = userOf[test.users[r]!]!;
      const i = itemOf[test.items[r]!]!;
      if (u < 0 || i < 0 || test.ratings[r]! < threshold) continue;
      (relevant[u] ??= new Set()).add(i);
    }
    const recommender = new ModelRecommender(trained);
    const recs: (Int32Array | undefined)[] = new Array(model.nUsers);
    for (let u = 0; u < model.nUsers; u++) if (relevant[u]) recs[u] = recommender.topUnratedForUser(u, k);
    result.ranking = { ...rankingReport(recs, relevant, k, model.nItems), threshold };
  }
  return result;
}
