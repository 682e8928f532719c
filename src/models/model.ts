import type { ParamKernel } from '../kernels/param-memory.js';
import type { Ratings } from '../data/ratings.js';
import type { FactorScoring } from './scoring.js';
import type { ModelConfigs } from './registry.js';

/** The models collab can train: the kinds of the model registry. */
export type ModelKind = keyof ModelConfigs;

/**
 * Gradient buffer of one parameter table plus the list of rows a batch touched, so an optimizer can
 * update only those rows of a big embedding table (dense tables are updated whole).
 */
export class Grad {
  /** d(loss)/d(value), same layout as the parameter. */
  readonly data: Float32Array;
  /** Rows touched since the last reset, in first-touch order; only `count` entries are valid. */
  readonly touched: Int32Array;
  /** Number of valid entries in `touched`. */
  count = 0;
  private readonly stamp: Int32Array;
  private epoch = 1;

  constructor(
    readonly rows: number,
    readonly cols: number,
    /** Allocate `data` and `touched` on a SharedArrayBuffer, so an optimizer in a worker thread can read them. */
    shared = false,
    /** Use this rows × cols view as `data` instead of allocating (a Param's WebAssembly memory). */
    data?: Float32Array,
  ) {
    this.data = data ?? (shared ? new Float32Array(new SharedArrayBuffer(rows * cols * 4)) : new Float32Array(rows * cols));
    this.touched = shared ? new Int32Array(new SharedArrayBuffer(rows * 4)) : new Int32Array(rows);
    this.stamp = new Int32Array(rows);
  }

  /** Records that `row` has a gradient in this batch. */
  touch(row: number): void {
    if (this.stamp[row] !== this.epoch) {
      this.stamp[row] = this.epoch;
      this.touched[this.count++] = row;
    }
  }

  /** Forgets the touched rows when the caller has already zeroed them (an optimizer zeroes each gradient as it reads it). */
  clearTouched(): void {
    this.count = 0;
    this.epoch++;
  }

  /** Zeroes the touched rows (or everything, for a dense table) ready for the next batch. */
  reset(dense: boolean): void {
    if (dense) this.data.fill(0);
    else {
      const k = this.cols;
      for (let t = 0; t < this.count; t++) {
        const off = this.touched[t]! * k;
        this.data.fill(0, off, off + k);
      }
    }
    this.count = 0;
    this.epoch++;
  }
}

/** One learnable table: a row-major rows × cols Float32Array. */
export interface Param {
  /** Stable name, used in model files ("userFactors", "itemBias", "layer0.weight", ...). */
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly value: Float32Array;
  readonly grad: Grad;
  /** An embedding table whose batches touch few rows: optimizers update touched rows only. */
  readonly sparse: boolean;
  /** Whether weight decay applies (fastai applies it to every parameter; batch-norm tables may opt out). */
  readonly decay: boolean;
  /** Where `value` and `grad.data` live in a WebAssembly memory, with the SIMD kernels bound to it (absent: JS loops only). */
  readonly kernel?: ParamKernel;
}

/**
 * Non-learnable state a model file must save beside the params (batch-norm running mean and variance):
 * updated by `trainBatch`, read by `predict`, never touched by an optimizer.
 */
export interface ModelBuffer {
  /** Stable name in model files ("bn0.runningMean", ...). */
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly value: Float32Array;
}

/** A rating model over dense user and item indices. Nothing here knows about files or the terminal. */
export interface RatingModel {
  readonly kind: ModelKind;
  readonly nUsers: number;
  readonly nItems: number;
  /** Every learnable table, in a fixed order (the order of the weights file). */
  readonly params: readonly Param[];
  /** Non-learnable state saved with the params, in a fixed order; absent when the model has none. */
  readonly buffers?: readonly ModelBuffer[];
  /** Hyperparameters needed to rebuild the same architecture (saved in the manifest). */
  config(): Record<string, unknown>;
  /**
   * Forward and backward over the training rows `order[start..end)` of `data`: adds the gradient of the
   * batch's mean squared error to each param's grad and returns the batch's sum of squared errors.
   */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number;
  /** Predicted rating of dense (user, item), in evaluation mode (no dropout, running batch-norm stats). */
  predict(user: number, item: number): number;
  /** Predictions for many pairs into `out` (evaluation mode). */
  predictMany(users: Int32Array, items: Int32Array, out: Float32Array): void;
  /**
   * User and item factor tables (row-major, nUsers × k and nItems × k) whose dot product p_u · q_i is
   * the model's prediction before any clipping (what Spark's ALSModel predicts): `dot` gives its live
   * tables, `mf` derived copies with its biases as two extra columns; absent when no such tables exist.
   */
  dotFactors?(): DotFactors;
  /**
   * What scoring a user vector against every movie needs (tables, biases, offset and link; see
   * `scoreUserVector`): every model whose prediction is a linked dot product gives it (the hybrid its
   * composed tables); absent for models scored otherwise (nn: {@link userVectorModel}).
   */
  factorScoring?(): FactorScoring;
  /** The movie embeddings (nItems × k) behind similar movies, the map and explanations, for models without factorScoring. */
  itemEmbeddings?(): { Q: Float32Array; k: number };
  /** Models with no closed-form fold-in (nn) expose themselves as a function of one user vector. */
  userVectorModel?(): UserVectorModel;
}

/** Factor tables whose row dot products are a model's predictions. */
export interface DotFactors {
  /** Factors per row (k). */
  nFactors: number;
  /** nUsers × k, row-major. */
  users: Float32Array;
  /** nItems × k, row-major. */
  items: Float32Array;
}

/** What the gradient fold-in needs from a model: a prediction for (user vector, item) and its gradient. */
export interface UserVectorModel {
  /** Length of the user vector being fitted (embedding plus whatever else the model keeps per user). */
  readonly userSize: number;
  /** Predicted rating of `item` for a user with parameters `userVec`; writes d pred / d userVec into `grad`. */
  predictWithUser(userVec: Float32Array, item: number, grad: Float32Array): number;
  /** Where a fold-in starts: the mean trained user's vector (empty when the model has none). */
  meanUserVector?(): Float32Array;
}
