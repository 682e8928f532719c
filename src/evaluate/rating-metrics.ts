import { CollabError } from '../core/errors.js';

/**
 * Rating-prediction errors over aligned columns: pred[r] is the model's guess for the true rating truth[r].
 * Every sum accumulates in float64. On empty input each metric returns NaN: there is no error to report,
 * and NaN cannot be mistaken for a perfect 0.
 */

/** Rating errors of one evaluation. */
export interface RatingReport {
  /** Number of (prediction, truth) pairs. */
  n: number;
  mse: number;
  rmse: number;
  mae: number;
}

function checkPair(pred: Float32Array, truth: Float32Array): void {
  if (pred.length !== truth.length) {
    throw new CollabError(
      'INVALID_OPTION',
      `predictions and true ratings must have the same length, got ${pred.length} and ${truth.length}; pass one prediction per rating`,
      { field: 'pred' },
    );
  }
}

/** Mean squared error (1/n) Σ (truth - pred)²; NaN when empty. */
export function mse(pred: Float32Array, truth: Float32Array): number {
  checkPair(pred, truth);
  const n = pred.length;
  if (n === 0) return NaN;
  let sum = 0;
  // sum += (r - pred)²
  for (let r = 0; r < n; r++) {
    const err = truth[r]! - pred[r]!;
    sum += err * err;
  }
  return sum / n;
}

/** Root mean squared error √mse; NaN when empty. */
export function rmse(pred: Float32Array, truth: Float32Array): number {
  return Math.sqrt(mse(pred, truth));
}

/** Mean absolute error (1/n) Σ |truth - pred|; NaN when empty. */
export function mae(pred: Float32Array, truth: Float32Array): number {
  checkPair(pred, truth);
  const n = pred.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (let r = 0; r < n; r++) sum += Math.abs(truth[r]! - pred[r]!);
  return sum / n;
}

/** mse, rmse and mae in one pass; all NaN (and n 0) when empty. */
export function ratingReport(pred: Float32Array, truth: Float32Array): RatingReport {
  checkPair(pred, truth);
  const n = pred.length;
  if (n === 0) return { n: 0, mse: NaN, rmse: NaN, mae: NaN };
  let sq = 0;
  let abs = 0;
  for (let r = 0; r < n; r++) {
    const err = truth[r]! - pred[r]!;
    sq += err * err;
    abs += Math.abs(err);
  }
  return { n, mse: sq / n, rmse: Math.sqrt(sq / n), mae: abs / n };
}
