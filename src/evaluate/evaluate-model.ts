import { requireInt, requireNumber } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import type { TrainedModel } from '../io/trained-model.js';
import { ModelRecommender } from '../recommend/recommender.js';
import { topKForUser } from '../maths/top-k.js';
import { fitBiasBaseline, globalMean, popularityScores, predictBaseline } from '../models/baselines.js';
import { userItemsCsr, type UserItemsCsr } from '../data/user-items.js';
import { rankingReport, type RankingReport } from './ranking-metrics.js';

/** Options of {@link evaluateModel} and {@link evaluatePredictor}. */
export interface EvaluateOptions {
  /** Length of the ranked lists. Default 10. */
  k?: number;
  /** A test rating ≥ threshold makes the movie relevant. Default 4. */
  threshold?: number;
  /** Skip the ranking metrics (they score every movie for every test user). Default false. */
  ratingOnly?: boolean;
}

/** Rating and ranking accuracy on test ratings. */
export interface EvaluationResult {
  /** Test ratings scored. */
  n: number;
  /** Rating error; NaN for a predictor that only ranks (popularity). */
  mse: number;
  rmse: number;
  mae: number;
  /** Test ratings whose user or movie was never seen in training: predicted as the training mean. */
  unknown: { ratings: number; fallback: 'training mean'; fallbackValue: number };
  /** Ranking quality; absent for a predictor that cannot rank (the global mean). */
  ranking?: RankingReport & { threshold: number };
}

/** What the evaluation needs from a model or a baseline, over the training data's dense indices. */
export interface Predictor {
  readonly name: string;
  /** Predicted ratings of (user, item) pairs; absent for rankers that predict no rating. */
  predictMany?(users: Int32Array, items: Int32Array, out: Float32Array): void;
  /** The k best items for user u among those not in `exclude` (ascending); absent for non-rankers. */
  topK?(u: number, k: number, exclude: Int32Array): Int32Array;
}

/**
 * Scores a trained model on test ratings read with their own id maps (raw ids are matched to the model's).
 * Ratings: every test rating; a pair with an unknown user or movie is predicted as the training mean and
 * counted. Ranking: for each test user the model knows, the top k among all movies the user did not rate
 * in training, against the user's test movies rated ≥ threshold.
 */
export function evaluateModel(trained: TrainedModel, test: Ratings, options: EvaluateOptions = {}): EvaluationResult {
  const recommender = new ModelRecommender(trained);
  const { model } = trained;
  return evaluatePredictor(
    trained.train,
    test,
    { name: model.kind, predictMany: (u, i, out) => model.predictMany(u, i, out), topK: (u, k) => recommender.topUnratedForUser(u, k) },
    options,
  );
}

/** Baselines every comparison should show: the global mean, user + movie biases, and popularity. */
export function baselinePredictors(train: Ratings): Predictor[] {
  const nUsers = train.userIds.size;
  const nItems = train.itemIds.size;
  const mu = globalMean(train.ratings);
  const bias = fitBiasBaseline(train, nUsers, nItems);
  const popularity = popularityScores(train.items, nItems);
  const scores = new Float32Array(nItems);
  return [
    { name: 'global mean', predictMany: (_u, _i, out) => out.fill(mu) },
    {
      name: 'bias baseline',
      predictMany: (u, i, out) => predictBaseline(bias, u, i, out),
      topK: (u, k, exclude) => {
        for (let i = 0; i < nItems; i++) scores[i] = bias.mu + bias.userBias[u]! + bias.itemBias[i]!;
        return topKForUser(scores, k, exclude).items;
      },
    },
    { name: 'popularity', topK: (_u, k, exclude) => topKForUser(popularity, k, exclude).items },
  ];
}

/** Evaluates any {@link Predictor} trained on `train` against `test` (see {@link evaluateModel}). */
export function evaluatePredictor(train: Ratings, test: Ratings, predictor: Predictor, options: EvaluateOptions = {}, trainCsr?: UserItemsCsr): EvaluationResult {
  const k = requireInt('k', options.k ?? 10, 1);
  const threshold = requireNumber('threshold', options.threshold ?? 4);
  const nUsers = train.userIds.size;
  const nItems = train.itemIds.size;
  const n = test.ratings.length;
  const mean = train.ratings.length ? globalMean(train.ratings) : 0;

  // Test rows → training indices (-1 when unknown); shared id maps map to themselves.
  const userOf = new Int32Array(test.userIds.size);
  for (let u = 0; u < userOf.length; u++) userOf[u] = train.userIds.indexOf(test.userIds.idOf(u));
  const itemOf = new Int32Array(test.itemIds.size);
  for (let i = 0; i < itemOf.length; i++) itemOf[i] = train.itemIds.indexOf(test.itemIds.idOf(i));
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const known = new Uint8Array(n);
  let unknown = 0;
  for (let r = 0; r < n; r++) {
    const u = userOf[test.users[r]!]!;
    const i = itemOf[test.items[r]!]!;
    // Ids in the id maps count as known, even validation-only ones a model built on shared maps holds an
    // untrained row for (as fastai and the PyTorch reference do); ids absent from the maps fall back.
    if (u < 0 || i < 0 || u >= nUsers || i >= nItems) unknown++;
    else known[r] = 1;
    users[r] = known[r] ? u : 0;
    items[r] = known[r] ? i : 0;
  }
  const result: EvaluationResult = { n, mse: NaN, rmse: NaN, mae: NaN, unknown: { ratings: unknown, fallback: 'training mean', fallbackValue: mean } };
  if (predictor.predictMany) {
    const pred = new Float32Array(n);
    predictor.predictMany(users, items, pred);
    let se = 0;
    let ae = 0;
    for (let r = 0; r < n; r++) {
      const err = (known[r] ? pred[r]! : mean) - test.ratings[r]!;
      se += err * err;
      ae += Math.abs(err);
    }
    result.mse = se / n;
    result.rmse = Math.sqrt(se / n);
    result.mae = ae / n;
  }
  if (!options.ratingOnly && predictor.topK) {
    const relevant: (Set<number> | undefined)[] = new Array(nUsers);
    for (let r = 0; r < n; r++) {
      if (!known[r] || test.ratings[r]! < threshold) continue;
      (relevant[users[r]!] ??= new Set()).add(items[r]!);
    }
    const csr = trainCsr ?? userItemsCsr(train.users, train.items, nUsers);
    const recs: (Int32Array | undefined)[] = new Array(nUsers);
    for (let u = 0; u < nUsers; u++) {
      if (relevant[u]) recs[u] = predictor.topK(u, k, csr.items.subarray(csr.offsets[u]!, csr.offsets[u + 1]!));
    }
    result.ranking = { ...rankingReport(recs, relevant, k, nItems), threshold };
  }
  return result;
}
