import { availableParallelism } from 'node:os';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import { userItemsCsr, type UserItemsCsr } from '../data/user-items.js';
import { choleskyFactor, choleskySubstitute } from '../maths/cholesky.js';
import { topKForUser, type TopKResult } from '../maths/top-k.js';
import { LockstepWorker } from '../core/lockstep-worker.js';
import { addGramian, cgScratch, mirrorUpper, P_A0, P_C, P_CG, P_NU, P_REG, PARAM_WORDS, rowRidge, solveRows, type RowsCsr } from './ials-kernel.js';
import { GRAM_X, GRAM_Y, ITEMS, USERS, W_END, W_START, type IalsWorkerData } from './ials-worker-data.js';

/**
 * iALS (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit Feedback Datasets"), a top-N
 * model on implicit feedback whose memory grows with the ratings and (nUsers + nItems)·k, never nItems².
 * Users and items get k factors each, x_u and y_i; a score is ŷ_ui = x_uᵀy_i. With S the set of
 * (user, item) pairs that were rated (whatever the value), the loss is
 *   L = c Σ_{(u,i) ∈ S} (1 − ŷ_ui)² + α₀ Σ_{(u,i) ∉ S} ŷ_ui² + Σ_u λ_u |x_u|² + Σ_i λ_i |y_i|²,
 * c = 1 + α the confidence of an observed pair (Hu's binary form), α₀ the weight of an unobserved one (1 in
 * Hu et al.; Rendle et al. 2021 tune it), and λ_u = λ·(c·n_u + α₀·(nItems − n_u))^ν the ridge scaled by
 * the row's total weight (Rendle et al.'s frequency scaling; ν = 0 is a plain λ). Training alternates
 * exact-enough row solves: all users with the items fixed, then all items with the users fixed, each row by
 * a few conjugate-gradient steps warm-started from its previous value (Takács et al. 2011; see
 * ials-kernel.ts). Every solve lowers L, so L falls each iteration. Init: N(0, (0.1/√k)²), seeded.
 */

/** Options of {@link fitIals}. Defaults: {@link IALS_DEFAULTS}. */
export interface IalsOptions {
  /** Factors per user and item, k. Default 64. */
  factors?: number;
  /** Alternations (a user half-step then an item half-step). Default 15. */
  iterations?: number;
  /** Confidence of an observed pair is c = 1 + alpha. Default IALS_DEFAULTS.alpha. */
  alpha?: number;
  /** Ridge weight λ (scaled per row by the row's total weight to the power regExponent). Default IALS_DEFAULTS.reg. */
  reg?: number;
  /** Weight α₀ of an unobserved pair. Default IALS_DEFAULTS.unobservedWeight. */
  unobservedWeight?: number;
  /** Exponent ν of the ridge scaling (0: plain λ). Default IALS_DEFAULTS.regExponent. */
  regExponent?: number;
  /** Conjugate-gradient steps per row solve. Default 3. */
  cgSteps?: number;
  /** Seed of the initial factors. Default 42. */
  seed?: number;
  /** Threads for the half-steps (1 or 2; the result is the same bit for bit). Default 2 when two cores exist. */
  threads?: number;
  /** Called after every iteration (1-based) with the model as it stands. */
  onIteration?: (iteration: number, model: IalsModel) => void;
}

/**
 * The defaults of {@link fitIals}, chosen by P@10 on an inner stratified 75/25 split of ml-100k's training
 * part (the test part was not used; `npm run bench:ials -- --tune` prints the sweep).
 */
export const IALS_DEFAULTS = {
  factors: 64,
  iterations: 15,
  alpha: 0.5,
  reg: 0.02,
  unobservedWeight: 0.5,
  regExponent: 1,
  cgSteps: 3,
  seed: 42,
} as const;

/** The hyperparameters an iALS model keeps (saved in its model file). */
export interface IalsConfig {
  factors: number;
  iterations: number;
  alpha: number;
  reg: number;
  unobservedWeight: number;
  regExponent: number;
  cgSteps: number;
  seed: number;
}

/** A fitted iALS model: user and item factors (Float32, row-major) plus each training user's items. */
export class IalsModel {
  /** The item Gramian YᵀY (k × k), made on the first fold-in (the factors do not change after training). */
  private gram: Float64Array | undefined;
  private readonly params: Float64Array;

  constructor(
    readonly nItems: number,
    readonly config: IalsConfig,
    /** x_u at [u·k .. u·k + k). */
    readonly userFactors: Float32Array,
    /** y_i at [i·k .. i·k + k). */
    readonly itemFactors: Float32Array,
    /** Each training user's items (ascending): the exclusion lists. */
    readonly userItems: UserItemsCsr,
  ) {
    const k = config.factors;
    if (userFactors.length !== userItems.nUsers * k || itemFactors.length !== nItems * k) {
      throw new CollabError('INVALID_OPTION', `iALS tables must be ${userItems.nUsers}×${k} and ${nItems}×${k}, got ${userFactors.length} and ${itemFactors.length} values`, { field: 'factors' });
    }
    this.params = halfStepParams(config);
  }

  /** Number of training users. */
  get nUsers(): number {
    return this.userItems.nUsers;
  }

  /** Factors per user and item. */
  get nFactors(): number {
    return this.config.factors;
  }

  /** Training items of user u, ascending. */
  itemsOf(u: number): Int32Array {
    requireInt('user', u, 0, this.userItems.nUsers - 1);
    const c = this.userItems;
    return c.items.subarray(c.offsets[u]!, c.offsets[u + 1]!);
  }

  /** Scores of every item for training user u: ŷ_ui = x_uᵀ y_i. */
  scoreUser(u: number, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    requireInt('user', u, 0, this.userItems.nUsers - 1);
    const k = this.config.factors;
    return this.scoreVector(this.userFactors.subarray(u * k, (u + 1) * k), out);
  }

  /** Scores of every item for a user vector x: ŷ_i = xᵀ y_i. */
  scoreVector(x: ArrayLike<number>, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    const k = this.config.factors;
    const Y = this.itemFactors;
    for (let i = 0; i < this.nItems; i++) {
      const iRow = i * k;
      let s = 0;
      for (let f = 0; f < k; f++) s += x[f]! * Y[iRow + f]!;
      out[i] = s;
    }
    return out;
  }

  /**
   * Scores of every item for someone whose history is `items` (any item indices, e.g. a new visitor's):
   * their x is folded in by one exact least-squares solve against the trained items (the user half-step's
   * normal equations, Cholesky instead of CG), then scored.
   */
  scoreItems(items: Int32Array, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    return this.scoreVector(this.foldIn(items), out);
  }

  /** The user vector x of a history (item indices): A x = b of ials-kernel.ts solved exactly. */
  foldIn(items: Int32Array): Float64Array {
    const x = new Float64Array(this.config.factors);
    const A = this.historyMatrix(items);
    const k = this.config.factors;
    const c = this.params[P_C]!;
    for (const i of items) for (let f = 0; f < k; f++) x[f] += c * this.itemFactors[i * k + f]!;
    choleskySubstitute(A, x, k);
    return x;
  }

  /**
   * How much each history item j adds to the fold-in score of item i (implicit's `explain`): with
   * W = A⁻¹ the history's inverse normal matrix, ŷ_i = y_iᵀ W b = Σ_j c·y_iᵀ W y_j, one term per j.
   */
  contributions(i: number, items: Int32Array): Float64Array {
    requireInt('item', i, 0, this.nItems - 1);
    const k = this.config.factors;
    const Y = this.itemFactors;
    const v = new Float64Array(k);
    for (let f = 0; f < k; f++) v[f] = Y[i * k + f]!;
    choleskySubstitute(this.historyMatrix(items), v, k);
    const c = this.params[P_C]!;
    return Float64Array.from(items, (j) => {
      let s = 0;
      for (let f = 0; f < k; f++) s += v[f]! * Y[j * k + f]!;
      return c * s;
    });
  }

  /** Cosine similarity of item i's factors with every item's (implicit's `similar_items`). */
  similarScores(i: number, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    requireInt('item', i, 0, this.nItems - 1);
    const k = this.config.factors;
    const Y = this.itemFactors;
    const norm = (j: number): number => {
      let s = 0;
      for (let f = 0; f < k; f++) s += Y[j * k + f]! * Y[j * k + f]!;
      return Math.sqrt(s);
    };
    const ni = norm(i);
    for (let j = 0; j < this.nItems; j++) {
      let s = 0;
      for (let f = 0; f < k; f++) s += Y[i * k + f]! * Y[j * k + f]!;
      const d = ni * norm(j);
      out[j] = d > 0 ? s / d : 0;
    }
    return out;
  }

  /** The k best items for training user u among the items u has not seen in training. */
  recommend(u: number, k: number): TopKResult {
    return topKForUser(this.scoreUser(u), k, this.itemsOf(u));
  }

  // A = α₀ YᵀY + (c − α₀) Σ_{i ∈ items} y_i y_iᵀ + λ_u I, factored in place (Cholesky L).
  private historyMatrix(items: Int32Array): Float64Array {
    const k = this.config.factors;
    for (const i of items) {
      if (!Number.isInteger(i) || i < 0 || i >= this.nItems) {
        throw new CollabError('INVALID_OPTION', `item index ${i} is outside 0..${this.nItems - 1}; map raw ids with the training IdMap first`, { field: 'items' });
      }
    }
    if (!this.gram) {
      this.gram = new Float64Array(k * k);
      addGramian(this.itemFactors, k, 0, this.nItems, this.gram);
      mirrorUpper(this.gram, k);
    }
    const c = this.params[P_C]!;
    const a0 = this.params[P_A0]!;
    const A = new Float64Array(k * k);
    for (let t = 0; t < k * k; t++) A[t] = a0 * this.gram[t]!;
    const Y = this.itemFactors;
    for (const i of items) {
      const iRow = i * k;
      for (let f = 0; f < k; f++) for (let g = 0; g < k; g++) A[f * k + g] += (c - a0) * Y[iRow + f]! * Y[iRow + g]!;
    }
    const lam = rowRidge(this.params, items.length, this.nItems);
    for (let f = 0; f < k; f++) A[f * k + f] += lam;
    choleskyFactor(A, k);
    return A;
  }
}

/** The half-step parameter words (ials-kernel.ts) of a config. */
function halfStepParams(config: IalsConfig): Float64Array {
  const p = new Float64Array(new SharedArrayBuffer(PARAM_WORDS * 8));
  p[P_C] = 1 + config.alpha;
  p[P_A0] = config.unobservedWeight;
  p[P_REG] = config.reg;
  p[P_NU] = config.regExponent;
  p[P_CG] = config.cgSteps;
  return p;
}

/** Validates options against the defaults. */
export function ialsConfig(options: IalsOptions = {}): IalsConfig {
  const d = IALS_DEFAULTS;
  return {
    factors: requireInt('factors', options.factors ?? d.factors, 1, 4096),
    iterations: requireInt('iterations', options.iterations ?? d.iterations, 0),
    alpha: requireNumber('alpha', options.alpha ?? d.alpha, 0),
    reg: requireNumber('reg', options.reg ?? d.reg, 0),
    unobservedWeight: requireNumber('unobservedWeight', options.unobservedWeight ?? d.unobservedWeight, 0),
    regExponent: requireNumber('regExponent', options.regExponent ?? d.regExponent, 0),
    cgSteps: requireInt('cgSteps', options.cgSteps ?? d.cgSteps, 1, 1000),
    seed: requireInt('seed', options.seed ?? d.seed, 0, 0xffffffff),
  };
}

/** The rows of a CSR split in two at about half their cost (k per row plus one per observed column). */
function halfway(offsets: Int32Array, k: number): number {
  const n = offsets.length - 1;
  const total = offsets[n]! + k * n;
  let u = 0;
  while (u < n && offsets[u]! + k * u < total / 2) u++;
  return u;
}

/** Copies a typed array into shared memory (workers see it without a copy). */
function shared<T extends Int32Array | Float32Array>(a: T): T {
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/**
 * The loss L of the model's doc for the given observed pairs (a user → items CSR), in float64:
 * α₀ Σ_all ŷ² = α₀ Σ_fg (XᵀX)_fg (YᵀY)_fg is taken in closed form, then each observed pair's term is
 * corrected from α₀ŷ² to c(1 − ŷ)².
 */
export function ialsLoss(model: IalsModel, csr: UserItemsCsr = model.userItems): number {
  const { factors: k, alpha, unobservedWeight: a0 } = model.config;
  const c = 1 + alpha;
  const X = model.userFactors;
  const Y = model.itemFactors;
  const gx = new Float64Array(k * k);
  const gy = new Float64Array(k * k);
  addGramian(X, k, 0, model.nUsers, gx);
  mirrorUpper(gx, k);
  addGramian(Y, k, 0, model.nItems, gy);
  mirrorUpper(gy, k);
  let all = 0;
  for (let t = 0; t < k * k; t++) all += gx[t]! * gy[t]!;
  let loss = a0 * all;
  const params = halfStepParams(model.config);
  const itemCounts = new Int32Array(model.nItems);
  for (let u = 0; u < csr.nUsers; u++) {
    const uRow = u * k;
    for (let t = csr.offsets[u]!; t < csr.offsets[u + 1]!; t++) {
      const i = csr.items[t]!;
      itemCounts[i]!++;
      let y = 0;
      for (let f = 0; f < k; f++) y += X[uRow + f]! * Y[i * k + f]!;
      loss += c * (1 - y) * (1 - y) - a0 * y * y;
    }
    let sq = 0;
    for (let f = 0; f < k; f++) sq += X[uRow + f]! * X[uRow + f]!;
    loss += rowRidge(params, csr.offsets[u + 1]! - csr.offsets[u]!, model.nItems) * sq;
  }
  for (let i = 0; i < model.nItems; i++) {
    let sq = 0;
    for (let f = 0; f < k; f++) sq += Y[i * k + f]! * Y[i * k + f]!;
    loss += rowRidge(params, itemCounts[i]!, model.nUsers) * sq;
  }
  return loss;
}

/**
 * Fits iALS on the (user, item) pairs of a ratings table (values ignored: implicit feedback; repeated
 * pairs count once). Seeded: the same options give the same factors bit for bit, on one thread or two.
 */
export async function fitIals(users: Int32Array, items: Int32Array, nUsers: number, nItems: number, options: IalsOptions = {}): Promise<IalsModel> {
  const config = ialsConfig(options);
  const threads = requireInt('threads', options.threads ?? Math.min(2, availableParallelism()), 1, 2);
  requireInt('nItems', nItems, 1);
  requireInt('nUsers', nUsers, 1);
  for (let r = 0; r < items.length; r++) {
    if (items[r]! < 0 || items[r]! >= nItems) {
      throw new CollabError('INVALID_OPTION', `items row ${r} has item index ${items[r]}, outside 0..${nItems - 1}; pass nItems of the id map`, { field: 'items' });
    }
  }
  const k = config.factors;
  const byUser = userItemsCsr(users, items, nUsers);
  // the item → users CSR is the transpose of the deduplicated user → items one
  const byItemRaw = transpose(byUser, nItems);
  const userRows: RowsCsr = threads > 1 ? { offsets: shared(byUser.offsets), cols: shared(byUser.items) } : { offsets: byUser.offsets, cols: byUser.items };
  const itemRows: RowsCsr = threads > 1 ? { offsets: shared(byItemRaw.offsets), cols: shared(byItemRaw.cols) } : byItemRaw;
  const alloc = (n: number): Float32Array => (threads > 1 ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n));
  const X = alloc(nUsers * k);
  const Y = alloc(nItems * k);
  // x, y ~ N(0, (0.1/√k)²) (Rendle et al. 2021), users first then items
  const rng = new RandomState(config.seed);
  const sigma = 0.1 / Math.sqrt(k);
  for (let t = 0; t < X.length; t++) X[t] = sigma * rng.normal();
  for (let t = 0; t < Y.length; t++) Y[t] = sigma * rng.normal();
  const model = new IalsModel(nItems, config, X, Y, byUser);
  const params = halfStepParams(config);
  const G = new Float64Array(new SharedArrayBuffer(k * k * 8));
  const G2 = new Float64Array(new SharedArrayBuffer(k * k * 8));
  const scratch = cgScratch(k);
  // The rows are always split at the same place, and each half's Gramian is summed in the same order,
  // so one thread and two give the same result bit for bit.
  const userSplit = halfway(userRows.offsets, k);
  const itemSplit = halfway(itemRows.offsets, k);
  let worker: LockstepWorker | undefined;
  let ctl: Int32Array | undefined;
  if (threads > 1) {
    ctl = new Int32Array(new SharedArrayBuffer((W_END + 1) * 4));
    const data: IalsWorkerData = { ctl, k, nUsers, nItems, X, Y, G, G2, params, userRows, itemRows };
    worker = new LockstepWorker(new URL('./ials-worker.js', import.meta.url), data);
    await worker.ready();
  }
  // G = FᵀF over rows [0, split) here and [split, n) in G2 (on the worker when there is one), then summed
  const gramian = (F: Float32Array, n: number, split: number, op: number): void => {
    G.fill(0);
    G2.fill(0);
    if (worker && ctl) {
      ctl[W_START] = split;
      ctl[W_END] = n;
      worker.post(op);
      addGramian(F, k, 0, split, G);
      worker.wait();
    } else {
      addGramian(F, k, 0, split, G);
      addGramian(F, k, split, n, G2);
    }
    for (let t = 0; t < k * k; t++) G[t] += G2[t]!;
    mirrorUpper(G, k);
  };
  const half = (T: Float32Array, F: Float32Array, rows: RowsCsr, n: number, nOther: number, split: number, op: number): void => {
    if (worker && ctl) {
      ctl[W_START] = split;
      ctl[W_END] = n;
      worker.post(op);
      solveRows(T, F, G, rows, nOther, k, params, 0, split, scratch);
      worker.wait();
    } else solveRows(T, F, G, rows, nOther, k, params, 0, n, scratch);
  };
  try {
    for (let it = 1; it <= config.iterations; it++) {
      gramian(Y, nItems, itemSplit, GRAM_Y);
      half(X, Y, userRows, nUsers, nItems, userSplit, USERS);
      gramian(X, nUsers, userSplit, GRAM_X);
      half(Y, X, itemRows, nItems, nUsers, itemSplit, ITEMS);
      options.onIteration?.(it, model);
    }
  } finally {
    await worker?.close();
  }
  // a fresh object: one that onIteration saw may hold a Gramian of earlier factors
  return new IalsModel(nItems, config, X, Y, byUser);
}

/** The item → users CSR of a user → items one. */
function transpose(csr: UserItemsCsr, nItems: number): RowsCsr {
  const offsets = new Int32Array(nItems + 1);
  for (let t = 0; t < csr.items.length; t++) offsets[csr.items[t]! + 1]!++;
  for (let i = 0; i < nItems; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, nItems);
  const cols = new Int32Array(csr.items.length);
  for (let u = 0; u < csr.nUsers; u++) for (let t = csr.offsets[u]!; t < csr.offsets[u + 1]!; t++) cols[fill[csr.items[t]!]!++] = u;
  return { offsets, cols };
}
