import { freemem } from 'node:os';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { MAX_WASM_BYTES } from '../kernels/param-memory.js';
import { DenseSpdInverse, denseSpdBytes, formatBytes } from '../maths/dense.js';
import { userItemsCsr, type UserItemsCsr } from '../data/user-items.js';
import { topKForUser, type TopKResult } from '../maths/top-k.js';

/**
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"), a top-N model on implicit
 * feedback. X is the binary users × items matrix (1 where the user rated the item, whatever the value).
 * The item-item weights B minimise |X - X B|² + λ|B|² subject to diag(B) = 0, whose closed form is
 *   G = XᵀX + λI,   P = G⁻¹,   B_ij = -P_ij / P_jj  (i ≠ j),   B_jj = 0,
 * and a user's score of item j is s_j = Σ_{i ∈ items(u)} B_ij (row sums of B over the user's items).
 * Why EASE rather than BPR or WARP: on MovieLens-sized catalogues it is the best-ranking of the simple
 * models in published comparisons (Steck 2019; Anelli et al. 2021), it is deterministic (no sampling,
 * no epochs, nothing to tune but λ). The nItems × nItems inverse is src/maths/dense.ts's blocked Cholesky on
 * WebAssembly SIMD and two threads: under a second for ml-100k's 1,682 items (see the README for figures).
 */

/** Options of {@link fitEase}. */
export interface EaseOptions {
  /** Ridge weight λ added to the diagonal of XᵀX. Default 400 (best P@10 on an inner 75/25 split of ml-100k's training part; the test part was not used). */
  lambda?: number;
  /** Refuse catalogues larger than this. Default: no limit but memory (see {@link easeBytes}). */
  maxItems?: number;
  /** Threads of the inverse (the caller's plus workers). Default: min(2, available cores). */
  threads?: number;
  /** Bytes of memory free for the fit. Default: os.freemem(). */
  freeMemory?: number;
}

/** Bytes a fit over nItems items takes: two nItems × nItems float64 matrices (the inverse's) and B in float32. */
export function easeBytes(nItems: number): number {
  return denseSpdBytes(nItems) + 4 * nItems * nItems;
}

/** The default λ of {@link fitEase}. */
export const EASE_DEFAULT_LAMBDA = 400;

/** A fitted EASE model: B (nItems × nItems, row-major, float32) plus each training user's items. */
export class EaseModel {
  /** Scores are accumulated here in float64 before they are rounded into the caller's buffer. */
  private readonly acc: Float64Array;

  constructor(
    readonly nItems: number,
    /** B_ij at [i * nItems + j]; the diagonal is 0. */
    readonly B: Float32Array,
    readonly lambda: number,
    /** Each training user's items (ascending): the input of {@link scoreUser} and the exclusion list. */
    readonly userItems: UserItemsCsr,
  ) {
    this.acc = new Float64Array(nItems);
  }

  /** Number of training users. */
  get nUsers(): number {
    return this.userItems.nUsers;
  }

  /** Scores of every item for a user who has the listed items (any item indices, e.g. a new visitor's): s_j = Σ_i B_ij. */
  scoreItems(items: Int32Array, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    const n = this.nItems;
    const B = this.B;
    const acc = this.acc;
    acc.fill(0);
    for (let t = 0; t < items.length; t++) {
      const i = items[t]!;
      if (i < 0 || i >= n) {
        throw new CollabError('INVALID_OPTION', `item index ${i} is outside 0..${n - 1}; map raw ids with the training IdMap first`, { field: 'items' });
      }
      // s_j += B[i, j] for every j
      const iRow = i * n;
      for (let j = 0; j < n; j++) acc[j] += B[iRow + j]!;
    }
    for (let j = 0; j < n; j++) out[j] = acc[j]!;
    return out;
  }

  /** Scores of every item for training user u (dense index). */
  scoreUser(u: number, out?: Float32Array): Float32Array {
    return this.scoreItems(this.itemsOf(u), out);
  }

  /** Training items of user u, ascending. */
  itemsOf(u: number): Int32Array {
    requireInt('user', u, 0, this.userItems.nUsers - 1);
    const c = this.userItems;
    return c.items.subarray(c.offsets[u]!, c.offsets[u + 1]!);
  }

  /** The k best items for training user u among the items u has not seen in training. */
  recommend(u: number, k: number): TopKResult {
    const seen = this.itemsOf(u);
    return topKForUser(this.scoreItems(seen), k, seen);
  }
}

/**
 * Fits EASE on the (user, item) pairs of a ratings table (values ignored: implicit feedback).
 * Deterministic (whatever the threads); time is dominated by the inverse (about nItems³/2 multiply-adds).
 * Checks first that the memory it needs ({@link easeBytes}) is free.
 */
export function fitEase(users: Int32Array, items: Int32Array, nUsers: number, nItems: number, options: EaseOptions = {}): EaseModel {
  const lambda = requireNumber('lambda', options.lambda ?? EASE_DEFAULT_LAMBDA, 0);
  const maxItems = requireInt('maxItems', options.maxItems ?? Number.MAX_SAFE_INTEGER, 1);
  requireInt('nItems', nItems, 1);
  if (nItems > maxItems) {
    throw new CollabError('INVALID_OPTION', `EASE needs an nItems × nItems inverse and ${nItems} items exceed maxItems ${maxItems}; keep only items with enough ratings or raise maxItems`, { field: 'maxItems' });
  }
  const need = easeBytes(nItems);
  if (denseSpdBytes(nItems) > MAX_WASM_BYTES) {
    throw new CollabError(
      'INVALID_OPTION',
      `EASE on ${nItems} items needs two ${nItems} × ${nItems} float64 matrices (${formatBytes(denseSpdBytes(nItems))}), beyond WebAssembly's 4 GiB; keep at most ${Math.floor(Math.sqrt(MAX_WASM_BYTES / 16))} items (those with the most ratings)`,
      { field: 'nItems' },
    );
  }
  const free = requireNumber('freeMemory', options.freeMemory ?? freemem(), 0);
  if (need > free) {
    throw new CollabError(
      'INVALID_OPTION',
      `EASE on ${nItems} items needs ${formatBytes(need)} of memory (two ${nItems} × ${nItems} float64 matrices and the float32 weights) and ${formatBytes(free)} is free; keep only items with enough ratings or free memory`,
      { field: 'nItems' },
    );
  }
  for (let r = 0; r < items.length; r++) {
    if (items[r]! < 0 || items[r]! >= nItems) {
      throw new CollabError('INVALID_OPTION', `items row ${r} has item index ${items[r]}, outside 0..${nItems - 1}; pass nItems of the id map`, { field: 'items' });
    }
  }
  const csr = userItemsCsr(users, items, nUsers);
  const inverse = new DenseSpdInverse(nItems, options.threads === undefined ? {} : { threads: options.threads });
  const G = gramMatrix(csr, nItems, inverse.matrix);
  // Items nobody has get G_jj = λ only; with λ = 0 that would be singular, so give them a unit diagonal.
  for (let j = 0; j < nItems; j++) G[j * nItems + j] += G[j * nItems + j] === 0 && lambda === 0 ? 1 : lambda;
  const P = inverse.invert();
  const B = new Float32Array(nItems * nItems);
  const diag = new Float64Array(nItems);
  for (let j = 0; j < nItems; j++) diag[j] = P[j * nItems + j]!;
  // B_ij = -P_ij / P_jj, diagonal 0
  for (let i = 0; i < nItems; i++) {
    const iRow = i * nItems;
    for (let j = 0; j < nItems; j++) B[iRow + j] = -P[iRow + j]! / diag[j]!;
    B[iRow + i] = 0;
  }
  return new EaseModel(nItems, B, lambda, csr);
}

/** XᵀX of the binary user-item matrix: G_ij = users who have both i and j (float64, full symmetric), into `G` (zeroed) when given. */
export function gramMatrix(csr: UserItemsCsr, nItems: number, G: Float64Array = new Float64Array(nItems * nItems)): Float64Array {
  const { offsets, items } = csr;
  for (let u = 0; u < csr.nUsers; u++) {
    const a = offsets[u]!;
    const b = offsets[u + 1]!;
    // G[i, j] += 1 for every pair (i, j) of u's items, the diagonal included
    for (let s = a; s < b; s++) {
      const iRow = items[s]! * nItems;
      for (let t = a; t < b; t++) G[iRow + items[t]!]++;
    }
  }
  return G;
}
