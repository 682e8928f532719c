import { requireInt } from '../core/errors.js';
import type { SimdKernelExports } from '../kernels/param-memory.js';
import type { Param } from './model.js';
import { makeParam, makeParams } from './init.js';

/**
 * acc + P[u]·Q[i] over rows uRow = u * k and iRow = i * k, added term by term onto `acc`
 * (((acc + p0 q0) + p1 q1) + ...), so a caller that starts from its biases gets the same float sum
 * as the loop written inline.
 */
export function dotRows(P: Float32Array, uRow: number, Q: Float32Array, iRow: number, k: number, acc = 0): number {
  for (let f = 0; f < k; f++) acc += P[uRow + f]! * Q[iRow + f]!;
  return acc;
}

/**
 * Gradient of g · P[u]·Q[i] added into the gradient tables: gP[u] += g Q[i], gQ[i] += g P[u]
 * (rows uRow = u * k, iRow = i * k).
 */
export function addPairGrad(
  gP: Float32Array, gQ: Float32Array, P: Float32Array, Q: Float32Array, uRow: number, iRow: number, k: number, g: number,
): void {
  for (let f = 0; f < k; f++) {
    gP[uRow + f] += g * Q[iRow + f]!;
    gQ[iRow + f] += g * P[uRow + f]!;
  }
}

/**
 * The wasm dotRows and addPairGrad over a factor model's two tables (one memory), with the byte offsets of
 * P, Q, gP and gQ: bit for bit the JS functions above, about 2.5x faster at k = 50.
 */
export interface PairKernel {
  readonly exports: SimdKernelExports;
  readonly p: number;
  readonly q: number;
  readonly gp: number;
  readonly gq: number;
}

/**
 * What the factor models (dot, dotbias, mf) share: validated sizes, the user and item embedding tables
 * (P: nUsers × k, Q: nItems × k, both sparse and decayed) and predictMany over `predict`.
 */
export abstract class FactorModel {
  readonly nFactors: number;
  readonly userFactors: Param;
  readonly itemFactors: Param;
  /** The per-rating kernels over userFactors and itemFactors; undefined where the runtime has no wasm SIMD. */
  readonly pair: PairKernel | undefined;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    /** Embedding width k; undefined means the default 50. */
    nFactors: number | undefined,
    /** Allocate tables and gradients on SharedArrayBuffer. */
    shared: boolean,
  ) {
    requireInt('nUsers', nUsers, 1);
    requireInt('nItems', nItems, 1);
    this.nFactors = requireInt('nFactors', nFactors ?? 50, 1, 4096);
    // one memory for both tables: the wasm dotRows and addPairGrad read a user row and an item row together
    [this.userFactors, this.itemFactors] = makeParams(
      [
        { name: 'userFactors', rows: nUsers, cols: this.nFactors, sparse: true },
        { name: 'itemFactors', rows: nItems, cols: this.nFactors, sparse: true },
      ],
      shared,
    ) as [Param, Param];
    const pk = this.userFactors.kernel;
    const qk = this.itemFactors.kernel;
    this.pair = pk && qk && pk.memory === qk.memory ? { exports: pk.exports, p: pk.valueOffset, q: qk.valueOffset, gp: pk.gradOffset, gq: qk.gradOffset } : undefined;
  }

  /**
   * acc + P[u]·Q[i] for rows uRow = u * k, iRow = i * k: the wasm kernel when the tables share a kernel
   * memory, else `dotRows`; the same bits either way.
   */
  protected dotPair(uRow: number, iRow: number, acc: number): number {
    const pair = this.pair;
    return pair
      ? pair.exports.dotRows(pair.p + uRow * 4, pair.q + iRow * 4, this.nFactors, acc)
      : dotRows(this.userFactors.value, uRow, this.itemFactors.value, iRow, this.nFactors, acc);
  }

  /** gP[u] += g Q[i], gQ[i] += g P[u] (the wasm kernel or `addPairGrad`, the same bits either way). */
  protected addPairGradient(uRow: number, iRow: number, g: number): void {
    const pair = this.pair;
    if (pair) pair.exports.addPairGrad(pair.gp + uRow * 4, pair.gq + iRow * 4, pair.p + uRow * 4, pair.q + iRow * 4, this.nFactors, g);
    else addPairGrad(this.userFactors.grad.data, this.itemFactors.grad.data, this.userFactors.value, this.itemFactors.value, uRow, iRow, this.nFactors, g);
  }

  /** Predicted rating of dense (user, item). */
  abstract predict(user: number, item: number): number;

  /** Predictions for many dense pairs into `out`. */
  predictMany(users: Int32Array, items: Int32Array, out: Float32Array): void {
    for (let r = 0; r < users.length; r++) out[r] = this.predict(users[r]!, items[r]!);
  }
}

/** The user and item bias tables (nUsers × 1, nItems × 1) of the biased factor models. */
export function biasParams(nUsers: number, nItems: number, decay: boolean, shared: boolean): [Param, Param] {
  return [makeParam('userBias', nUsers, 1, true, decay, shared), makeParam('itemBias', nItems, 1, true, decay, shared)];
}
