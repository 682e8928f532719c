import type { HybridModel } from '../models/hybrid.js';
import { foldInSoftmax, PICK_FOLD_IN_STEPS, softmaxCurvature } from './fold-in.js';
import { SoftmaxTable } from './softmax-table.js';

/**
 * A hybrid's pick head as rankings use it (models/pick-head): every movie's q'_i and b'_i (a movie that
 * never trained from its metadata, see hybridItemTables), every user's p'_u, a visitor's p' folded in from
 * the movies they rated, and the ranking blend's popularity term b'_i + p'·q'_i. The fold-in's support (the
 * trained movies), its table and its curvature at the mean trained user are made on first use and shared
 * by every visitor.
 */
export class PickScorer {
  readonly k: number;
  /** Users' p' (nUsers × k), composed once. */
  private readonly P: Float32Array;
  private foldInState: { prior: Float32Array; table: SoftmaxTable; curvature: Float64Array } | undefined;

  constructor(
    model: HybridModel,
    /** Movies' q' (nItems × k) and b', new movies filled in (hybridItemTables().pick). */
    readonly items: { k: number; factors: Float32Array; bias: Float32Array },
    private readonly trainedUsers: Uint8Array,
    private readonly trainedItems: Uint8Array,
    /** Ridge weight of a fold-in towards its prior. */
    private readonly lambda = 1,
  ) {
    this.k = items.k;
    this.P = new Float32Array(model.nUsers * this.k);
    for (let u = 0; u < model.nUsers; u++) this.P.set(model.pickUserRepresentation(u)!, u * this.k);
  }

  /** p'_u of a user the model trained on. */
  user(u: number): Float32Array {
    return this.P.subarray(u * this.k, (u + 1) * this.k);
  }

  /** A visitor's p' from the movies they rated (dense indices), starting from `prior` (default the mean trained user). */
  foldIn(rated: Int32Array, prior?: Float32Array): Float32Array {
    const state = this.state();
    const { factors, bias, k } = this.items;
    return foldInSoftmax(factors, bias, k, rated, { prior: prior ?? state.prior, table: state.table, curvature: state.curvature, lambda: this.lambda, steps: PICK_FOLD_IN_STEPS }).userVector;
  }

  /** out[i] = b'_i + p'·q'_i for every movie. */
  score(p: ArrayLike<number>, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.scoreItem(p, i);
  }

  /** b'_i + p'·q'_i for one movie, in float64 (what {@link score} stores as float32). */
  scoreItem(p: ArrayLike<number>, i: number): number {
    const { factors: Q, bias: b, k } = this.items;
    const iRow = i * k;
    let s = b[i]!;
    for (let f = 0; f < k; f++) s += p[f]! * Q[iRow + f]!;
    return s;
  }

  // The fold-in's shared state: the mean trained user, the trained movies' table, the curvature there.
  private state(): { prior: Float32Array; table: SoftmaxTable; curvature: Float64Array } {
    if (!this.foldInState) {
      const { factors, bias, k } = this.items;
      const mean = new Float64Array(k);
      let m = 0;
      for (let u = 0; u < this.trainedUsers.length; u++) {
        if (!this.trainedUsers[u]) continue;
        for (let f = 0; f < k; f++) mean[f]! += this.P[u * k + f]!;
        m++;
      }
      const prior = Float32Array.from(mean, (x) => x / Math.max(1, m));
      const candidates = Int32Array.from(Array.from(this.trainedItems.keys()).filter((i) => this.trainedItems[i] === 1));
      const table = new SoftmaxTable(factors, bias, k, candidates);
      this.foldInState = { prior, table, curvature: softmaxCurvature(factors, bias, k, prior, table) };
    }
    return this.foldInState;
  }
}
