import { requireInt } from '../core/errors.js';
import { BATCH_BYTES, type TrainKernelExports, type WasmMemory } from '../kernels/param-memory.js';
import type { Ratings } from '../data/ratings.js';
import type { Param } from './model.js';
import { makeParam, makeParams, type ParamSpec } from './init.js';

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
  /** The memory the tables share. */
  readonly memory: WasmMemory;
  readonly exports: TrainKernelExports;
  readonly p: number;
  readonly q: number;
  readonly gp: number;
  readonly gq: number;
  /** Byte offsets of the bias tables and their gradients (0 when the model has none in this memory). */
  readonly bu: number;
  readonly bi: number;
  readonly gbu: number;
  readonly gbi: number;
  /** The batch scratch: 12-byte (user, item, rating) records for pairBatch, as ints and floats. */
  readonly batch: number;
  readonly batchInts: Int32Array;
  readonly batchFloats: Float32Array;
}

/** Ratings per pairBatch call: the records that fit the memory's batch scratch (a bigger batch runs in chunks). */
const PAIR_CHUNK = Math.floor(BATCH_BYTES / 12);

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
  /** The user and item bias tables (nUsers × 1, nItems × 1, sparse) when the model asked for them: in the factors' memory, so one kernel reads all four. */
  protected readonly biasTables: [Param, Param] | undefined;
  /** [P, Q] and the bias tables if any, in the order runPairBatch takes them. */
  readonly pairTables: readonly Param[];

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    /** Embedding width k; undefined means the default 50. */
    nFactors: number | undefined,
    /** Allocate tables and gradients on SharedArrayBuffer. */
    shared: boolean,
    /** With bias tables (userBias, itemBias): whether weight decay applies to them; undefined: none. */
    biasDecay?: boolean,
  ) {
    requireInt('nUsers', nUsers, 1);
    requireInt('nItems', nItems, 1);
    this.nFactors = requireInt('nFactors', nFactors ?? 50, 1, 4096);
    // one memory for all tables: the wasm kernels read a user row and an item row (and their biases) together
    const specs: ParamSpec[] = [
      { name: 'userFactors', rows: nUsers, cols: this.nFactors, sparse: true },
      { name: 'itemFactors', rows: nItems, cols: this.nFactors, sparse: true },
    ];
    if (biasDecay !== undefined) {
      specs.push({ name: 'userBias', rows: nUsers, cols: 1, sparse: true, decay: biasDecay }, { name: 'itemBias', rows: nItems, cols: 1, sparse: true, decay: biasDecay });
    }
    const tables = makeParams(specs, shared);
    this.userFactors = tables[0]!;
    this.itemFactors = tables[1]!;
    this.biasTables = biasDecay !== undefined ? [tables[2]!, tables[3]!] : undefined;
    this.pair = pairKernel(this.userFactors, this.itemFactors, this.biasTables);
    this.pairTables = tables;
  }

  /**
   * Forward and backward of the ratings order[start..end) in the wasm pairBatch kernel (see {@link runPairBatch});
   * undefined when the kernels are not there (the caller runs its JS loop).
   */
  protected pairBatch(data: PairData, order: Int32Array, start: number, end: number, scale: number): number | undefined {
    const training = this.pairTraining();
    if (!training) return undefined;
    return runPairBatch(training.pair, this.nFactors, this.pairTables, data, order, start, end, scale, training.link);
  }

  /** The link of the model's minibatch forward (dotbias: its scaled sigmoid; dot: undefined, the plain dot product); null for a model that trains otherwise (mf's per-rating SGD). */
  protected pairLink(): PairLink | undefined | null {
    return null;
  }

  /**
   * How the model's minibatches run in the pair kernels: their kernel and link; null where they run in JS (no
   * kernels in this runtime, or bias tables outside the factors' memory) or the model trains otherwise (mf).
   */
  pairTraining(): { pair: PairKernel; link: PairLink | undefined } | null {
    const link = this.pairLink();
    const pair = this.pair;
    if (link === null || !pair || (link && pair.bu === 0)) return null;
    return { pair, link };
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

/** The rating columns a pair batch reads. */
export type PairData = Pick<Ratings, 'users' | 'items' | 'ratings'>;

/** The dotbias link: the sigmoid scaled to [lo, lo + span]. */
export interface PairLink {
  lo: number;
  span: number;
}

/** dL/d(link output) per unit error of a batch of B ratings (L = mean squared error): 2 span / B for dotbias, 2 / B for dot. */
export function pairScale(link: PairLink | undefined, batch: number): number {
  return link ? (2 * link.span) / batch : 2 / batch;
}

/**
 * The pairBatch kernel over factor tables P and Q (and bias tables) that share one memory, with the batch
 * scratch of P's kernel binding (its thread's slot); undefined when they have no kernels or not one memory.
 */
export function pairKernel(P: Param, Q: Param, biases?: readonly [Param, Param]): PairKernel | undefined {
  const pk = P.kernel;
  const qk = Q.kernel;
  if (!pk || !qk || pk.memory !== qk.memory) return undefined;
  const [buk, bik] = [biases?.[0].kernel, biases?.[1].kernel];
  const withBias = buk !== undefined && bik !== undefined && buk.memory === pk.memory && bik.memory === pk.memory;
  const buffer = pk.memory.buffer;
  return {
    memory: pk.memory, exports: pk.exports, p: pk.valueOffset, q: qk.valueOffset, gp: pk.gradOffset, gq: qk.gradOffset,
    bu: withBias ? buk.valueOffset : 0, bi: withBias ? bik.valueOffset : 0, gbu: withBias ? buk.gradOffset : 0, gbi: withBias ? bik.gradOffset : 0,
    batch: pk.batchOffset,
    batchInts: new Int32Array(buffer, pk.batchOffset, PAIR_CHUNK * 3),
    batchFloats: new Float32Array(buffer, pk.batchOffset, PAIR_CHUNK * 3),
  };
}

/**
 * Forward and backward of the ratings order[start..end) in the wasm pairBatch kernel, one call per up to
 * PAIR_CHUNK ratings (bit for bit the dot and dotbias JS loops): with `link` the dotbias model over
 * tables [P, Q, bu, bi], without it the plain dot product over [P, Q]. Touches the rows' gradients in the
 * order the loops do; returns the batch's sum of squared errors.
 */
export function runPairBatch(
  pair: PairKernel, k: number, tables: readonly Param[], data: PairData, order: Int32Array, start: number, end: number, scale: number, link?: PairLink,
): number {
  let sse = 0;
  for (let from = start; from < end; from += PAIR_CHUNK) {
    const to = Math.min(end, from + PAIR_CHUNK);
    writePairRecords(pair, tables, data, order, from, to, link !== undefined);
    sse = pair.exports.pairBatch(pair.batch, to - from, k, pair.p, pair.q, pair.gp, pair.gq, pair.bu, pair.bi, pair.gbu, pair.gbi, link?.lo ?? 0, link?.span ?? 0, scale, sse);
  }
  return sse;
}

/**
 * The ratings order[from..to) as the pair kernels' 12-byte (user, item, rating) records in the batch scratch
 * (at most PAIR_CHUNK), touching their rows' gradients (the bias tables' too with `biases`) in rating order.
 */
export function writePairRecords(pair: PairKernel, tables: readonly Param[], data: PairData, order: Int32Array, from: number, to: number, biases: boolean): void {
  const { users, items, ratings } = data;
  const ints = pair.batchInts;
  const floats = pair.batchFloats;
  const gP = tables[0]!.grad;
  const gQ = tables[1]!.grad;
  const gbu = biases ? tables[2]!.grad : undefined;
  const gbi = biases ? tables[3]!.grad : undefined;
  for (let r = from, at = 0; r < to; r++, at += 3) {
    const row = order[r]!;
    const u = users[row]!;
    const i = items[row]!;
    ints[at] = u;
    ints[at + 1] = i;
    floats[at + 2] = ratings[row]!;
    gP.touch(u);
    gQ.touch(i);
    if (gbu) {
      gbu.touch(u);
      gbi!.touch(i);
    }
  }
}

/** The user and item bias tables (nUsers × 1, nItems × 1) of the biased factor models. */
export function biasParams(nUsers: number, nItems: number, decay: boolean, shared: boolean): [Param, Param] {
  return [makeParam('userBias', nUsers, 1, true, decay, shared), makeParam('itemBias', nItems, 1, true, decay, shared)];
}
