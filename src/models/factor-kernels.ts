import { requireInt } from '../core/errors.js';
import type { Param } from './model.js';
import { makeParam } from './init.js';

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
 * What the factor models (dot, dotbias, mf) share: validated sizes, the user and item embedding tables
 * (P: nUsers × k, Q: nItems × k, both sparse and decayed) and predictMany over `predict`.
 */
export abstract class FactorModel {
  readonly nFactors: number;
  readonly userFactors: Param;
  readonly itemFactors: Param;

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
    this.userFactors = makeParam('userFactors', nUsers, this.nFactors, true, true, shared);
    this.itemFactors = makeParam('itemFactors', nItems, this.nFactors, true, true, shared);
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
