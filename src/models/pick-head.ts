import { requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import type { Ratings } from '../data/ratings.js';
import { scratchKernels, type SimdKernelExports } from '../kernels/param-memory.js';
import { composeInto, type Csr } from './feature-csr.js';
import { makeParam, truncNormal } from './init.js';
import type { Param } from './model.js';

/** Options of {@link PickHead} (the hybrid fills them from its own). */
export interface PickHeadOptions {
  nFactors: number;
  nNegatives: number;
  initStd: number;
  userIdDropout: number;
  itemIdDropout: number;
  /** The batch products: 'wasm' (f32x4 kernels on float32 copies) or 'js' (float64 loops). Default 'wasm'. */
  kernels?: 'wasm' | 'js';
  /** Tables in shared memory, so a worker thread can train the head. Default false. */
  shared?: boolean;
}

/** What the head reads of a training table: the user and movie of every rating. */
export type PickData = Pick<Ratings, 'users' | 'items'>;

/**
 * The hybrid's second head: which movies a user picks to watch at all, learnt from the fact that a rating
 * exists (implicit feedback), not from its value. A user's and a movie's pick representations are composed
 * like the rating head's, from an id row plus the weighted sum of feature rows, with separate tables:
 *   p'_u = P'[u] + Σ_{f ∈ F(u)} w_uf PF'[f]      q'_i = Q'[i] + Σ_{g ∈ G(i)} w_ig QF'[g]
 *   b'_i = b'[i] + Σ_g w_ig bG'[g]                s(u, i) = p'_u·q'_i + b'_i
 * and s is a logit of a softmax over the catalogue, P(i | u) = exp s(u, i) / Σ_j exp s(u, j): without a
 * user part, its maximum-likelihood b'_i is ln(count_i) + const, the log-popularity a ranking adds to a
 * predicted rating; with one, it is a personalised log-popularity.
 *
 * Training is sampled softmax: each batch draws N negatives uniformly from the movies that have training
 * ratings (a uniform proposal needs no log-q correction), shared by the batch, and each rating (u, i) of the
 * batch contributes, over C = {i} ∪ negatives (a negative equal to i left out),
 *   L_ui = -s(u, i) + ln Σ_{j ∈ C} exp s(u, j),      dL/ds(u, j) = π_j - [j = i],  π = softmax over C
 * averaged over the batch. The chain rule through the sums above gives
 *   dL/dP'[u] = Σ_j g_j q'_j,   dL/dPF'[f] = w_uf Σ_j g_j q'_j,   dL/dQ'[j] = g_j p'_u,   dL/dQF'[g] = w_jg g_j p'_u,
 *   dL/db'[j] = g_j,   dL/dbG'[g] = w_jg g_j     (g_j = dL/ds(u, j) / B).
 * Id dropout as DropoutNet's: with probability userIdDropout (itemIdDropout) a rating's user (positive
 * movie) is represented by its features alone, which trains that path (the hybrid gives the head its own
 * movie id dropout, default 0.1; a new user's or movie's p', q', b' are then still best taken from
 * recommend/feature-map's ridge maps over the trained ones).
 *
 * A batch is three matrix products with the B users' p' as rows of X and the negatives' q' as rows of W:
 * Z = X Wᵀ + b' (the negatives' logits), dX = G W and dW = Gᵀ X (G the B × N negative part of dL/ds), run
 * by default as the f32x4 wasm kernels EmbeddingNN's layers use, on float32 copies (option `kernels`);
 * the positives' logits and everything per row stay in float64 JS.
 */
export class PickHead {
  readonly nFactors: number;
  readonly nNegatives: number;
  readonly userIdDropout: number;
  readonly itemIdDropout: number;
  readonly userIdFactors: Param;
  readonly itemIdFactors: Param;
  readonly itemIdBias: Param;
  readonly userFeatureFactors: Param;
  readonly itemFeatureFactors: Param;
  readonly itemFeatureBias: Param;
  readonly params: readonly Param[];
  /** Movies with training ratings (where negatives are drawn), computed once per training table. */
  private catalogue: { data: PickData; items: Int32Array } | undefined;
  private readonly rng: RandomState;
  private readonly wantWasm: boolean;
  /** Rows the batch buffers hold, and the buffers (see {@link Scratch}). */
  private cap = 0;
  private s: Scratch | undefined;
  private readonly row: Float64Array;
  private readonly gu: Float64Array;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    private readonly uf: Csr,
    private readonly itf: Csr,
    /** As given (a worker thread rebuilds the head from them). */
    readonly options: PickHeadOptions,
    seed: number,
    /** Tables to adopt as they are (a worker thread's view of the model's shared memories), in `params` order; default fresh ones. */
    adopt?: readonly Param[],
  ) {
    const k = (this.nFactors = requireInt('pickFactors', options.nFactors, 1, 4096));
    this.nNegatives = requireInt('pickNegatives', options.nNegatives, 1, 4096);
    requireNumber('initStd', options.initStd, 0);
    this.userIdDropout = options.userIdDropout;
    this.itemIdDropout = options.itemIdDropout;
    this.wantWasm = (options.kernels ?? 'wasm') === 'wasm';
    const nUf = Math.max(1, uf.names.length);
    const nIf = Math.max(1, itf.names.length);
    const shared = options.shared ?? false;
    // a bias is the best thing known about a rarely picked movie, so it is not decayed (as the rating head's)
    const made = adopt ?? [
      makeParam('userPickFactors', nUsers, k, true, true, shared),
      makeParam('itemPickFactors', nItems, k, true, true, shared),
      makeParam('itemPickBias', nItems, 1, true, false, shared),
      makeParam('userFeaturePickFactors', nUf, k, true, true, shared),
      makeParam('itemFeaturePickFactors', nIf, k, true, true, shared),
      makeParam('itemFeaturePickBias', nIf, 1, true, false, shared),
    ];
    [this.userIdFactors, this.itemIdFactors, this.itemIdBias, this.userFeatureFactors, this.itemFeatureFactors, this.itemFeatureBias] = made as [Param, Param, Param, Param, Param, Param];
    this.params = made;
    if (!adopt) {
      const rng = new RandomState(seed);
      for (const p of this.params) truncNormal(p.value, rng, options.initStd);
    }
    this.rng = new RandomState(seed + 1);
    this.row = new Float64Array(k);
    this.gu = new Float64Array(k);
  }

  /** p'_u into `out` (features only when `useId` is false). */
  composeUser(u: number, out: Float64Array, useId = true): void {
    composeInto(out, this.nFactors, this.uf, u, useId ? this.userIdFactors.value : undefined, this.userFeatureFactors.value, undefined, undefined);
  }

  /** q'_i into `out` (features only when `useId` is false); returns b'_i. */
  composeItem(i: number, out: Float64Array, useId = true): number {
    const id = useId ? this.itemIdFactors.value : undefined;
    const idBias = useId ? this.itemIdBias.value : undefined;
    return composeInto(out, this.nFactors, this.itf, i, id, this.itemFeatureFactors.value, idBias, this.itemFeatureBias.value);
  }

  /** The movies of `data` that have ratings (negatives are drawn among them). */
  private trainedItems(data: PickData): Int32Array {
    if (this.catalogue?.data !== data) {
      const seen = new Uint8Array(this.nItems);
      for (let r = 0; r < data.items.length; r++) seen[data.items[r]!] = 1;
      const items: number[] = [];
      for (let i = 0; i < this.nItems; i++) if (seen[i]) items.push(i);
      this.catalogue = { data, items: Int32Array.from(items) };
    }
    return this.catalogue.items;
  }

  /** Forward and backward of the sampled softmax over one batch (see the class doc); returns Σ L_ui. */
  trainBatch(data: PickData, order: Int32Array, start: number, end: number): number {
    const k = this.nFactors;
    const m = this.nNegatives;
    const n = end - start;
    const s = this.scratch(n);
    const { dp, X, W, bW, Z, G, dX, dW, Qp, x0, negItems, useU, useI } = s;
    const { users, items } = data;
    const catalogue = this.trainedItems(data);
    const rng = this.rng;
    const row = this.row;
    // the batch's negatives, composed once, as the rows of W
    for (let t = 0; t < m; t++) {
      const j = catalogue[Math.floor(rng.random() * catalogue.length)]!;
      negItems[t] = j;
      bW[t] = this.composeItem(j, row);
      for (let f = 0; f < k; f++) W[t * dp + f] = row[f]!;
    }
    // the users as the rows of X; the positives' q'_i and logits x0 = p'_u·q'_i + b'_i
    for (let b = 0; b < n; b++) {
      const r = order[start + b]!;
      useU[b] = this.userIdDropout === 0 || rng.random() >= this.userIdDropout ? 1 : 0;
      useI[b] = this.itemIdDropout === 0 || rng.random() >= this.itemIdDropout ? 1 : 0;
      this.composeUser(users[r]!, row, useU[b] === 1);
      for (let f = 0; f < k; f++) X[b * dp + f] = row[f]!;
      let x = this.composeItem(items[r]!, this.gu, useI[b] === 1);
      for (let f = 0; f < k; f++) {
        Qp[b * k + f] = this.gu[f]!;
        x += row[f]! * this.gu[f]!;
      }
      x0[b] = x;
    }
    s.forward(n);
    // softmax over {i} ∪ negatives per row; G holds the negatives' g = π / B, x0 becomes g0 = (π_i - 1) / B
    let loss = 0;
    const scale = 1 / n;
    for (let b = 0; b < n; b++) {
      const i = items[order[start + b]!]!;
      const zo = b * m;
      let max = x0[b]!;
      for (let t = 0; t < m; t++) {
        // a negative that is the positive itself is left out
        if (negItems[t] === i) Z[zo + t] = -Infinity;
        else if (Z[zo + t]! > max) max = Z[zo + t]!;
      }
      const e0 = Math.exp(x0[b]! - max);
      let sum = e0;
      for (let t = 0; t < m; t++) {
        const e = Math.exp(Z[zo + t]! - max);
        G[zo + t] = e;
        sum += e;
      }
      // L = ln Σ exp - x0
      loss += Math.log(sum) + max - x0[b]!;
      x0[b] = (e0 / sum - 1) * scale;
      const norm = scale / sum;
      for (let t = 0; t < m; t++) G[zo + t]! *= norm;
    }
    s.gradients(n);
    // each row: dL/dp'_u = g0 q'_i + (G W)_b into the user's rows; dL/dq'_i = g0 p'_u into the positive's
    const gu = this.gu;
    for (let b = 0; b < n; b++) {
      const r = order[start + b]!;
      const g0 = x0[b]!;
      for (let f = 0; f < k; f++) {
        gu[f] = g0 * Qp[b * k + f]! + dX[b * dp + f]!;
        row[f] = X[b * dp + f]!;
      }
      this.addUserGrad(users[r]!, gu, useU[b] === 1);
      this.addItemGrad(items[r]!, g0, row, g0, useI[b] === 1);
    }
    // the negatives: dL/dq'_j = (Gᵀ X)_j, dL/db'_j = Σ_b G[b, j]
    for (let t = 0; t < m; t++) {
      let gb = 0;
      for (let b = 0; b < n; b++) gb += G[b * m + t]!;
      for (let f = 0; f < k; f++) row[f] = dW[t * dp + f]!;
      this.addItemGrad(negItems[t]!, 1, row, gb, true);
    }
    return loss;
  }

  /** dL/dP'[u] += v (when the id took part) and dL/dPF'[f] += w_uf v. */
  private addUserGrad(u: number, v: Float64Array, useId: boolean): void {
    const k = this.nFactors;
    if (useId) {
      const gP = this.userIdFactors.grad;
      const gd = gP.data;
      const uRow = u * k;
      for (let f = 0; f < k; f++) gd[uRow + f] += v[f]!;
      gP.touch(u);
    }
    const { offsets, indices, weights } = this.uf;
    const gPF = this.userFeatureFactors.grad;
    const gd = gPF.data;
    for (let t = offsets[u]!; t < offsets[u + 1]!; t++) {
      const fi = indices[t]!;
      const w = weights[t]!;
      const fRow = fi * k;
      for (let f = 0; f < k; f++) gd[fRow + f] += w * v[f]!;
      gPF.touch(fi);
    }
  }

  /** dL/dQ'[i] += c v, dL/db'[i] += gBias (when the id took part), and the same through i's features times w_ig. */
  private addItemGrad(i: number, c: number, v: Float64Array, gBias: number, useId: boolean): void {
    const k = this.nFactors;
    if (useId) {
      const gQ = this.itemIdFactors.grad;
      const gb = this.itemIdBias.grad;
      const gd = gQ.data;
      const iRow = i * k;
      for (let f = 0; f < k; f++) gd[iRow + f] += c * v[f]!;
      gb.data[i] += gBias;
      gQ.touch(i);
      gb.touch(i);
    }
    const { offsets, indices, weights } = this.itf;
    const gQF = this.itemFeatureFactors.grad;
    const gbG = this.itemFeatureBias.grad;
    const gd = gQF.data;
    const gbd = gbG.data;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) {
      const gi = indices[t]!;
      const w = weights[t]!;
      const gRow = gi * k;
      const wc = w * c;
      for (let f = 0; f < k; f++) gd[gRow + f] += wc * v[f]!;
      gbd[gi] += w * gBias;
      gQF.touch(gi);
      gbG.touch(gi);
    }
  }

  /** The batch buffers for n rows (grown only when a larger batch than ever arrives). */
  private scratch(n: number): Scratch {
    if (this.s && n <= this.cap) return this.s;
    this.cap = Math.max(n, this.cap * 2);
    this.s = makeScratch(this.cap, this.nFactors, this.nNegatives, this.wantWasm);
    return this.s;
  }
}

/**
 * One batch's operands: X (cap × dp: the users' p'), W (m × dp: the negatives' q') and bW (their b'),
 * Z = X Wᵀ + bW and G (cap × m), dX = G W (cap × dp), dW = Gᵀ X (m × dp), with rows padded with zeros to
 * dp floats; plus per-row JS state. With the wasm kernels the matrices are float32 views of one wasm
 * memory, else float64 arrays and JS loops.
 */
interface Scratch {
  dp: number;
  X: Float32Array | Float64Array;
  W: Float32Array | Float64Array;
  bW: Float32Array | Float64Array;
  Z: Float32Array | Float64Array;
  G: Float32Array | Float64Array;
  dX: Float32Array | Float64Array;
  dW: Float32Array | Float64Array;
  /** The positives' q'_i (cap × k) and logits, then their g0. */
  Qp: Float64Array;
  x0: Float64Array;
  negItems: Int32Array;
  useU: Uint8Array;
  useI: Uint8Array;
  /** Z = X Wᵀ + bW over the first n rows. */
  forward(n: number): void;
  /** dX = G W and dW = Gᵀ X over the first n rows. */
  gradients(n: number): void;
}

function makeScratch(cap: number, k: number, m: number, wasm: boolean): Scratch {
  const dp = Math.ceil(k / 4) * 4;
  const rowState = { dp, Qp: new Float64Array(cap * k), x0: new Float64Array(cap), negItems: new Int32Array(m), useU: new Uint8Array(cap), useI: new Uint8Array(cap) };
  // floats per operand, in order: X, W, bW, Z, G, dX, dW, idx, val
  const sizes = [cap * dp, m * dp, m, cap * m, cap * m, cap * dp, m * dp, Math.max(cap, m), Math.max(cap, m)];
  const padded = (n: number): number => Math.ceil(n / 4) * 16;
  const sk = wasm ? scratchKernels(sizes.reduce((sum, n) => sum + padded(n), 0)) : undefined;
  if (sk) {
    const simd: SimdKernelExports = sk.exports;
    const off: number[] = [];
    let base = 0;
    for (const n of sizes) {
      off.push(base);
      base += padded(n);
    }
    const view = (j: number): Float32Array => new Float32Array(sk.memory.buffer, off[j]!, sizes[j]!);
    const [x, w, bw, z, g, dx, dw, idx, val] = off as [number, number, number, number, number, number, number, number, number];
    return {
      ...rowState,
      X: view(0), W: view(1), bW: view(2), Z: view(3), G: view(4), dX: view(5), dW: view(6),
      forward: (n) => simd.nnForward(x, w, bw, z, n, dp, m),
      gradients: (n) => {
        simd.nnGradX(g, w, dx, n, dp, m, idx, val);
        simd.nnGradW(g, x, dw, n, dp, m, idx, val);
      },
    };
  }
  const X = new Float64Array(cap * dp);
  const W = new Float64Array(m * dp);
  const bW = new Float64Array(m);
  const Z = new Float64Array(cap * m);
  const G = new Float64Array(cap * m);
  const dX = new Float64Array(cap * dp);
  const dW = new Float64Array(m * dp);
  return {
    ...rowState, X, W, bW, Z, G, dX, dW,
    forward(n) {
      // Z[b, t] = bW[t] + Σ_f X[b, f] W[t, f]
      for (let b = 0; b < n; b++) {
        for (let t = 0; t < m; t++) {
          let z = bW[t]!;
          for (let f = 0; f < dp; f++) z += X[b * dp + f]! * W[t * dp + f]!;
          Z[b * m + t] = z;
        }
      }
    },
    gradients(n) {
      // dX[b, :] = Σ_t G[b, t] W[t, :],  dW[t, :] = Σ_b G[b, t] X[b, :]
      dX.fill(0, 0, n * dp);
      dW.fill(0);
      for (let b = 0; b < n; b++) {
        for (let t = 0; t < m; t++) {
          const g = G[b * m + t]!;
          if (g === 0) continue;
          for (let f = 0; f < dp; f++) {
            dX[b * dp + f] += g * W[t * dp + f]!;
            dW[t * dp + f] += g * X[b * dp + f]!;
          }
        }
      }
    },
  };
}
