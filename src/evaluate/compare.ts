import { performance } from 'node:perf_hooks';
import type { Ratings } from '../data/ratings.js';
import type { ModelKind } from '../models/model.js';
import { ModelRecommender } from '../recommend/recommender.js';
import { collabLearner } from '../train/learner.js';
import { baselinePredictors, evaluatePredictor, type EvaluateOptions, type EvaluationResult } from './evaluate-model.js';
import { userItemsCsr } from '../data/user-items.js';

/** One row of a comparison table. */
export interface ComparisonRow {
  name: string;
  mse: number;
  rmse: number;
  mae: number;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  /** Training seconds (0 for baselines that are counted, not trained). */
  trainSeconds: number;
}

/** Options of {@link compareModels}. */
export interface CompareOptions extends EvaluateOptions {
  /** Models trained with their default recipes. Default ['dotbias', 'mf']. */
  models?: ModelKind[];
  /** Include the global-mean, bias and popularity baselines. Default true. */
  baselines?: boolean;
  /** Called as each row is done (progress). */
  onRow?: (row: ComparisonRow) => void;
}

function rowOf(name: string, r: EvaluationResult, trainSeconds: number): ComparisonRow {
  const rk = r.ranking;
  return {
    name,
    mse: r.mse,
    rmse: r.rmse,
    mae: r.mae,
    precision: rk?.precision ?? NaN,
    recall: rk?.recall ?? NaN,
    ndcg: rk?.ndcg ?? NaN,
    map: rk?.map ?? NaN,
    trainSeconds,
  };
}

/**
 * Trains each model kind with its default recipe on `train` and evaluates it, with the baselines, on
 * `test` (which shares train's id maps or has its own): one row per model, same protocol for all.
 */
export async function compareModels(train: Ratings, test: Ratings, options: CompareOptions = {}): Promise<ComparisonRow[]> {
  const rows: ComparisonRow[] = [];
  const csr = userItemsCsr(train.users, train.items, train.userIds.size);
  const push = (row: ComparisonRow): void => {
    rows.push(row);
    options.onRow?.(row);
  };
  if (options.baselines ?? true) {
    for (const p of baselinePredictors(train)) push(rowOf(p.name, evaluatePredictor(train, test, p, options, csr), 0));
  }
  for (const kind of options.models ?? (['dotbias', 'mf'] as ModelKind[])) {
    const learner = collabLearner(train, undefined, { model: kind });
    const t0 = performance.now();
    await learner.fitDefault();
    const seconds = (performance.now() - t0) / 1000;
    await learner.close();
    // Ranked as `collab recommend` ranks (its popularity blend), over all unrated movies.
    const recommender = new ModelRecommender({ model: learner.model, train, items: new Map(), history: { epochs: [] } }, { minRatings: 0 });
    const model = learner.model;
    const result = evaluatePredictor(
      train,
      test,
      { name: kind, predictMany: (u, i, out) => model.predictMany(u, i, out), topK: (u, k) => recommender.topUnratedForUser(u, k) },
      options,
      csr,
    );
    push(rowOf(kind, result, seconds));
  }
  return rows;
}

/** Mean and sample standard deviation of each numeric column over folds, per row name. */
export function summarizeFolds(folds: ComparisonRow[][]): { name: string; mean: ComparisonRow; std: ComparisonRow }[] {
  const names = folds[0]?.map((r) => r.name) ?? [];
  const keys = ['mse', 'rmse', 'mae', 'precision', 'recall', 'ndcg', 'map', 'trainSeconds'] as const;
  return names.map((name) => {
    const rows = folds.map((f) => f.find((r) => r.name === name)!);
    const mean = { name } as ComparisonRow;
    const std = { name } as ComparisonRow;
    for (const key of keys) {
      const xs = rows.map((r) => r[key]);
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      mean[key] = m;
      std[key] = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
    }
    return { name, mean, std };
  });
}
