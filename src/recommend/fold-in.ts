import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { UserVectorModel } from '../models/model.js';
import type { FactorScoring } from '../models/scoring.js';
import { SoftmaxTable } from './softmax-table.js';
import { choleskyFactor, choleskySolve, choleskySubstitute } from '../maths/cholesky.js';

export type { UserVectorModel };

/**
 * Fold-in: fit one new user's parameters from a handful of (item index, rating) pairs, with every item
 * parameter fixed, so a user can be served without retraining (or updated after new ratings).
 *
 * Linear models (dot, dotbias without a y range, mf): with x = [p; b_u] and z_i = [q_i; 1],
 *   minimise  L(x) = Σ_i (r_i - (p·q_i + b_u + b_i + mu))² + Σ_a Λ_a (x_a - x0_a)²
 *   solution  (Σ z_i z_iᵀ + Λ) x = Σ z_i (r_i - b_i - mu) + Λ x0      — a (k+1)×(k+1) Cholesky solve
 * with Λ = diag(λ, ..., λ, λ_b) and a prior x0 (default 0; the mean trained user works better)
 * (without a user bias, z_i = q_i and the system is k×k).
 *
 * Sigmoid-range models (fastai's dotbias with y_range = [lo, hi]):
 *   pred_i = lo + (hi - lo) σ(s_i),  s_i = p·q_i + b_u + b_i + mu
 * start from the linear solution on the logit scale, t_i = logit(clamp((r_i - lo)/(hi - lo), ε, 1-ε))
 * with ε = 0.01, then take damped Gauss-Newton steps on the real-scale loss L(x) = Σ (r_i - pred_i)² + Σ Λ_a (x_a - x0_a)²:
 *   J_i = (hi - lo) σ_i (1 - σ_i) z_i,   (Σ J_i J_iᵀ + Λ) δ = Σ J_i e_i - Λ (x - x0),   e_i = r_i - pred_i
 * halving δ until L decreases.
 *
 * Any other model (nn): Adam on the user vector with a caller-supplied prediction and gradient,
 * learning rate decayed linearly to 0 so the last steps settle.
 */

/** Options shared by the fold-in solvers. */
export interface FoldInOptions {
  /** Item biases b_i, one per item row. Default: none (0). */
  itemBias?: Float32Array;
  /** Constant mu added to every score (the global mean of a model that has one). Default 0. */
  offset?: number;
  /** Ridge weight λ on |p|² + b_u². Default 1. */
  lambda?: number;
  /** Fit a user bias b_u (false for models without biases, like dot). Default true. */
  fitBias?: boolean;
  /** Ridge weight on b_u alone (a bias needs less shrinking than a k-vector). Default: lambda. */
  biasLambda?: number;
  /**
   * Prior mean x0 = [p0; b0] the ridge pulls towards instead of 0, e.g. the mean trained user: with
   * few ratings a new user then looks like an average user, not like nobody. Default zeros.
   */
  priorVector?: Float32Array;
  priorBias?: number;
}

/** Options of `foldInSigmoid`. */
export interface SigmoidFoldInOptions extends FoldInOptions {
  /** The model's [lo, hi]; every rating must lie inside. Required. */
  yRange: readonly [number, number];
  /** Gauss-Newton steps at most. Default 20. */
  steps?: number;
}

/** A folded-in user. */
export interface FoldInResult {
  /** p, nFactors values. */
  userVector: Float32Array;
  /** b_u (0 when not fitted). */
  userBias: number;
  /** Final objective L (squared errors plus the ridge term). */
  loss: number;
  /** Iterative steps taken (0 for the closed form). */
  steps: number;
}

/** Options of `foldInGradient`. */
export interface GradientFoldInOptions {
  /** Ridge weight λ on |userVec|². Default 1. */
  lambda?: number;
  /** Adam steps. Default 300. */
  steps?: number;
  /** Initial learning rate, decayed linearly to 0. Default 0.05. */
  lr?: number;
  /** Starting user vector. Default zeros. */
  init?: Float32Array;
}

interface Checked {
  n: number;
  nItems: number;
  lambda: number;
  /** Per-coordinate ridge weights Λ (length d) and prior x0. */
  weights: Float64Array;
  prior: Float64Array;
  offset: number;
  fitBias: boolean;
  itemBias: Float32Array | undefined;
}

function checkInputs(itemFactors: Float32Array, nFactors: number, items: Int32Array, ratings: Float32Array, options: FoldInOptions): Checked {
  requireInt('nFactors', nFactors, 1);
  if (itemFactors.length % nFactors !== 0) {
    throw new CollabError('INVALID_OPTION', `item factor table of length ${itemFactors.length} is not a multiple of nFactors ${nFactors}`, { field: 'nFactors' });
  }
  const nItems = itemFactors.length / nFactors;
  const lambda = requireNumber('lambda', options.lambda ?? 1, 0);
  const offset = requireNumber('offset', options.offset ?? 0);
  const itemBias = options.itemBias;
  if (itemBias !== undefined && itemBias.length !== nItems) {
    throw new CollabError('INVALID_OPTION', `itemBias has ${itemBias.length} entries for ${nItems} items`, { field: 'itemBias' });
  }
  checkPairs(items, ratings, nItems);
  const fitBias = options.fitBias ?? true;
  const d = fitBias ? nFactors + 1 : nFactors;
  const biasLambda = requireNumber('biasLambda', options.biasLambda ?? lambda, 0);
  const weights = new Float64Array(d).fill(lambda);
  if (fitBias) weights[nFactors] = biasLambda;
  const prior = new Float64Array(d);
  if (options.priorVector) {
    if (options.priorVector.length !== nFactors) {
      throw new CollabError('INVALID_OPTION', `priorVector has ${options.priorVector.length} entries for ${nFactors} factors`, { field: 'priorVector' });
    }
    prior.set(options.priorVector);
  }
  if (fitBias) prior[nFactors] = requireNumber('priorBias', options.priorBias ?? 0);
  return { n: items.length, nItems, lambda, weights, prior, offset, fitBias, itemBias };
}

function checkPairs(items: Int32Array, ratings: Float32Array, nItems: number): void {
  if (items.length === 0) {
    throw new CollabError('INVALID_OPTION', 'fold-in needs at least one (item, rating) pair, got none; give a few ratings such as "1:5,260:4.5"', { field: 'ratings' });
  }
  if (items.length !== ratings.length) {
    throw new CollabError('INVALID_OPTION', `items and ratings differ in length (${items.length} and ${ratings.length})`, { field: 'ratings' });
  }
  for (let t = 0; t < items.length; t++) {
    const i = items[t]!;
    if (!Number.isInteger(i) || i < 0 || i >= nItems) {
      throw new CollabError('INVALID_OPTION', `item index ${i} is outside 0..${nItems - 1}; map raw ids with the model's item IdMap first`, { field: 'items' });
    }
    if (!Number.isFinite(ratings[t]!)) {
      throw new CollabError('INVALID_OPTION', `rating ${t} is ${ratings[t]}, not a finite number`, { field: 'ratings' });
    }
  }
}

/**
 * The ridge system of x = [p; b_u] for targets y_t ≈ x·z_t + c_t (z_t = [q_i; 1], c_t = b_i + mu):
 * A = Σ z zᵀ + Λ (lower triangle, which Cholesky reads) and rhs = Σ z (y - c) + Λ x0.
 */
function normalEquations(itemFactors: Float32Array, k: number, items: Int32Array, targets: Float64Array, c: Checked): { A: Float64Array; rhs: Float64Array; d: number } {
  const d = c.fitBias ? k + 1 : k;
  const A = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let t = 0; t < c.n; t++) {
    const i = items[t]!;
    const iRow = i * k;
    const y = targets[t]! - (c.itemBias === undefined ? 0 : c.itemBias[i]!) - c.offset;
    for (let a = 0; a < d; a++) {
      const za = a < k ? itemFactors[iRow + a]! : 1;
      rhs[a]! += za * y;
      for (let b = 0; b <= a; b++) A[a * d + b]! += za * (b < k ? itemFactors[iRow + b]! : 1);
    }
  }
  for (let a = 0; a < d; a++) {
    A[a * d + a]! += c.weights[a]!;
    rhs[a]! += c.weights[a]! * c.prior[a]!;
  }
  return { A, rhs, d };
}

/** Ridge fit of x = [p; b_u]: solves the normal equations, A x = rhs. Returns x (length d = k or k + 1). */
function ridge(itemFactors: Float32Array, k: number, items: Int32Array, targets: Float64Array, c: Checked): Float64Array {
  const { A, rhs, d } = normalEquations(itemFactors, k, items, targets, c);
  choleskySolve(A, rhs, d);
  return rhs;
}

/** The sigmoid model's linear targets: t = logit(clamp((r - lo)/(hi - lo), ε, 1 - ε)), ε = 0.01. */
function logitTargets(ratings: Float32Array, yRange: readonly [number, number] | undefined): Float64Array {
  const [lo, hi] = yRange ?? [NaN, NaN];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
    throw new CollabError('INVALID_OPTION', `yRange must be two finite numbers lo < hi, got [${yRange}]`, { field: 'yRange' });
  }
  const eps = 0.01;
  const logits = new Float64Array(ratings.length);
  for (let t = 0; t < ratings.length; t++) {
    const r = ratings[t]!;
    if (r < lo || r > hi) {
      throw new CollabError('INVALID_OPTION', `rating ${r} is outside the model's scale [${lo}, ${hi}]; give ratings on the scale the model was trained on`, { field: 'ratings' });
    }
    const y = Math.min(Math.max((r - lo) / (hi - lo), eps), 1 - eps);
    logits[t] = Math.log(y / (1 - y));
  }
  return logits;
}

/** Options of `foldInContributions`: those of the fold-in it explains. */
export interface ContributionOptions extends FoldInOptions {
  /** The sigmoid model's [lo, hi] (its fold-in starts from the logit targets). Default: a linear model. */
  yRange?: readonly [number, number];
}

/**
 * Each given rating's share of what an item's fold-in score owes to the user vector. The ridge fold-in
 * is linear in its targets:
 *   x - x0 = A⁻¹ Σ_t z_t res_t,   res_t = y_t - c_t - z_t·x0,   A = Σ z zᵀ + Λ,
 * so the factor part of an item's score moves away from the prior user's by
 *   q_i·(p - p0) = Σ_t ([q_i; 0]ᵀ A⁻¹ z_t) res_t,
 * and term t is rating t's contribution: large when the visitor rated t above what an average user
 * would and t lies close to i. The user bias is left out on purpose: it lifts every movie alike, so it
 * cannot say why this movie was picked. Sigmoid models are explained on the logit scale of their
 * linear start. Returns, per item index, the contributions in the order of `items` (A is factored once).
 */
export function foldInContributions(itemFactors: Float32Array, nFactors: number, items: Int32Array, ratings: Float32Array, options: ContributionOptions = {}): (item: number) => Float64Array {
  const c = checkInputs(itemFactors, nFactors, items, ratings, options);
  const k = nFactors;
  const targets = options.yRange ? logitTargets(ratings, options.yRange) : Float64Array.from(ratings);
  const { A, d } = normalEquations(itemFactors, k, items, targets, c);
  choleskyFactor(A, d);
  const res = new Float64Array(c.n);
  for (let t = 0; t < c.n; t++) {
    const iRow = items[t]! * k;
    let prior = c.offset + (c.itemBias === undefined ? 0 : c.itemBias[items[t]!]!) + (c.fitBias ? c.prior[k]! : 0);
    for (let f = 0; f < k; f++) prior += c.prior[f]! * itemFactors[iRow + f]!;
    res[t] = targets[t]! - prior;
  }
  return (item: number) => {
    if (!Number.isInteger(item) || item < 0 || item >= c.nItems) {
      throw new CollabError('INVALID_OPTION', `item index ${item} is outside 0..${c.nItems - 1}`, { field: 'item' });
    }
    // w = A⁻¹ [q_i; 0], then contribution_t = (z_t · w) res_t
    const w = new Float64Array(d);
    const iRow = item * k;
    for (let f = 0; f < k; f++) w[f] = itemFactors[iRow + f]!;
    choleskySubstitute(A, w, d);
    const out = new Float64Array(c.n);
    for (let t = 0; t < c.n; t++) {
      const tRow = items[t]! * k;
      let dot = c.fitBias ? w[k]! : 0;
      for (let f = 0; f < k; f++) dot += itemFactors[tRow + f]! * w[f]!;
      out[t] = dot * res[t]!;
    }
    return out;
  };
}

function result(x: Float64Array, k: number, fitBias: boolean, loss: number, steps: number): FoldInResult {
  return { userVector: Float32Array.from(x.subarray(0, k)), userBias: fitBias ? x[k]! : 0, loss, steps };
}

/** Linear-model fold-in: the closed-form ridge solution for p (and b_u), see the file comment. */
export function foldInLinear(itemFactors: Float32Array, nFactors: number, items: Int32Array, ratings: Float32Array, options: FoldInOptions = {}): FoldInResult {
  const c = checkInputs(itemFactors, nFactors, items, ratings, options);
  const targets = Float64Array.from(ratings);
  const x = ridge(itemFactors, nFactors, items, targets, c);
  // L = Σ (r - pred)² + λ|x|²
  let loss = 0;
  for (let t = 0; t < c.n; t++) {
    const i = items[t]!;
    const iRow = i * nFactors;
    let pred = c.offset + (c.itemBias === undefined ? 0 : c.itemBias[i]!) + (c.fitBias ? x[nFactors]! : 0);
    for (let f = 0; f < nFactors; f++) pred += x[f]! * itemFactors[iRow + f]!;
    loss += (ratings[t]! - pred) ** 2;
  }
  loss += penalty(x, c);
  return result(x, nFactors, c.fitBias, loss, 0);
}

/** L(x) = Σ (r - lo - (hi - lo) σ(s))² + λ|x|² for the sigmoid-range model. */
function sigmoidLoss(itemFactors: Float32Array, k: number, items: Int32Array, ratings: Float32Array, x: Float64Array, c: Checked, lo: number, hi: number): number {
  let loss = 0;
  for (let t = 0; t < c.n; t++) {
    const i = items[t]!;
    const iRow = i * k;
    let s = c.offset + (c.itemBias === undefined ? 0 : c.itemBias[i]!) + (c.fitBias ? x[k]! : 0);
    for (let f = 0; f < k; f++) s += x[f]! * itemFactors[iRow + f]!;
    const err = ratings[t]! - (lo + (hi - lo) / (1 + Math.exp(-s)));
    loss += err * err;
  }
  return loss + penalty(x, c);
}

/** Σ_a Λ_a (x_a - x0_a)². */
function penalty(x: Float64Array, c: Checked): number {
  let p = 0;
  for (let a = 0; a < x.length; a++) p += c.weights[a]! * (x[a]! - c.prior[a]!) ** 2;
  return p;
}

/** Sigmoid-range fold-in: logit-scale ridge start, then damped Gauss-Newton on the real scale. */
export function foldInSigmoid(itemFactors: Float32Array, nFactors: number, items: Int32Array, ratings: Float32Array, options: SigmoidFoldInOptions): FoldInResult {
  const c = checkInputs(itemFactors, nFactors, items, ratings, options);
  const logits = logitTargets(ratings, options.yRange);
  const [lo, hi] = options.yRange;
  const maxSteps = requireInt('steps', options.steps ?? 20, 0);
  const k = nFactors;
  const x = ridge(itemFactors, k, items, logits, c);
  const d = x.length;
  const A = new Float64Array(d * d);
  const g = new Float64Array(d);
  const trial = new Float64Array(d);
  let loss = sigmoidLoss(itemFactors, k, items, ratings, x, c, lo, hi);
  let steps = 0;
  for (; steps < maxSteps; steps++) {
    // A = Σ J Jᵀ + λ I, g = Σ J e - λ x, with J = (hi - lo) σ(1 - σ) z
    A.fill(0);
    for (let a = 0; a < d; a++) g[a] = -c.weights[a]! * (x[a]! - c.prior[a]!);
    for (let t = 0; t < c.n; t++) {
      const i = items[t]!;
      const iRow = i * k;
      let s = c.offset + (c.itemBias === undefined ? 0 : c.itemBias[i]!) + (c.fitBias ? x[k]! : 0);
      for (let f = 0; f < k; f++) s += x[f]! * itemFactors[iRow + f]!;
      const sig = 1 / (1 + Math.exp(-s));
      const err = ratings[t]! - (lo + (hi - lo) * sig);
      const scale = (hi - lo) * sig * (1 - sig);
      for (let a = 0; a < d; a++) {
        const ja = scale * (a < k ? itemFactors[iRow + a]! : 1);
        g[a]! += ja * err;
        for (let b = 0; b <= a; b++) A[a * d + b]! += ja * scale * (b < k ? itemFactors[iRow + b]! : 1);
      }
    }
    for (let a = 0; a < d; a++) A[a * d + a]! += c.weights[a]!;
    choleskySolve(A, g, d);
    // halve δ = g until the loss goes down; stop once a step gains (almost) nothing
    let gain = -1;
    let stepLen = 1;
    for (let half = 0; half < 20; half++, stepLen /= 2) {
      for (let a = 0; a < d; a++) trial[a] = x[a]! + stepLen * g[a]!;
      const trialLoss = sigmoidLoss(itemFactors, k, items, ratings, trial, c, lo, hi);
      if (trialLoss <= loss) {
        gain = loss - trialLoss;
        x.set(trial);
        loss = trialLoss;
        break;
      }
    }
    if (gain <= 1e-12 * (1 + loss)) {
      steps++;
      break;
    }
  }
  return result(x, k, c.fitBias, loss, steps);
}

/** What a fold-in under a model's scoring takes besides the ratings: the ridge weights and the prior user. */
export type ScoringFoldInOptions = Pick<FoldInOptions, 'lambda' | 'biasLambda' | 'priorVector' | 'priorBias'>;

/**
 * The fold-in a model's scoring calls for, with the movies, biases and offset it gives: on the logit
 * scale under a y-range ({@link foldInSigmoid}), else the linear ridge with the scoring's offset
 * ({@link foldInLinear}); a model without user biases fits none. With `contributions`, the matching
 * {@link foldInContributions} of each movie's score to the given ratings.
 */
export function foldInScoring(scoring: FactorScoring, items: Int32Array, ratings: Float32Array, options: ScoringFoldInOptions): FoldInResult {
  const common = { ...options, fitBias: scoring.bu !== undefined, ...(scoring.bi ? { itemBias: scoring.bi } : {}) };
  return scoring.yRange
    ? foldInSigmoid(scoring.Q, scoring.k, items, ratings, { ...common, yRange: scoring.yRange })
    : foldInLinear(scoring.Q, scoring.k, items, ratings, { ...common, offset: scoring.offset });
}

/** {@link foldInContributions} under a model's scoring (its link, biases and offset). */
export function scoringContributions(scoring: FactorScoring, items: Int32Array, ratings: Float32Array, options: ScoringFoldInOptions): (item: number) => Float64Array {
  const common = { ...options, fitBias: scoring.bu !== undefined, ...(scoring.bi ? { itemBias: scoring.bi } : {}) };
  return foldInContributions(scoring.Q, scoring.k, items, ratings, { ...common, ...(scoring.yRange ? { yRange: scoring.yRange } : { offset: scoring.offset }) });
}

/**
 * Generic fold-in for models with no closed form (nn): Adam on
 *   L(u) = Σ_t (r_t - pred(u, i_t))² + λ |u|²,   ∇L = -2 Σ_t e_t ∇pred + 2 λ u
 * for `steps` full-batch steps, learning rate decayed linearly from lr to 0.
 */
export function foldInGradient(model: UserVectorModel, nItems: number, items: Int32Array, ratings: Float32Array, options: GradientFoldInOptions = {}): { userVector: Float32Array; loss: number; steps: number } {
  const d = requireInt('userSize', model.userSize, 1);
  requireInt('nItems', nItems, 1);
  checkPairs(items, ratings, nItems);
  const lambda = requireNumber('lambda', options.lambda ?? 1, 0);
  const steps = requireInt('steps', options.steps ?? 300, 1);
  const lr = requireNumber('lr', options.lr ?? 0.05, 0);
  const u = new Float32Array(d);
  if (options.init !== undefined) {
    if (options.init.length !== d) {
      throw new CollabError('INVALID_OPTION', `init has ${options.init.length} values, the model's user vector has ${d}`, { field: 'init' });
    }
    u.set(options.init);
  }
  const grad = new Float32Array(d);
  const total = new Float64Array(d);
  const m = new Float64Array(d);
  const v = new Float64Array(d);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const epsAdam = 1e-8;
  for (let step = 1; step <= steps; step++) {
    for (let a = 0; a < d; a++) total[a] = 2 * lambda * u[a]!;
    for (let t = 0; t < items.length; t++) {
      const pred = model.predictWithUser(u, items[t]!, grad);
      const err = ratings[t]! - pred;
      for (let a = 0; a < d; a++) total[a]! -= 2 * err * grad[a]!;
    }
    // Adam with bias correction; lr_t = lr (1 - (step - 1) / steps)
    const lrT = lr * (1 - (step - 1) / steps);
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let a = 0; a < d; a++) {
      m[a] = beta1 * m[a]! + (1 - beta1) * total[a]!;
      v[a] = beta2 * v[a]! + (1 - beta2) * total[a]! * total[a]!;
      u[a] = u[a]! - (lrT * (m[a]! / c1)) / (Math.sqrt(v[a]! / c2) + epsAdam);
    }
  }
  // final objective at the returned vector
  let loss = 0;
  for (let a = 0; a < d; a++) loss += lambda * u[a]! * u[a]!;
  for (let t = 0; t < items.length; t++) loss += (ratings[t]! - model.predictWithUser(u, items[t]!, grad)) ** 2;
  return { userVector: u, loss, steps };
}

/**
 * Steps the recommenders give a pick-head fold-in: the rankings it feeds do not move past them (on ml-100k
 * new users' nDCG@10 within ±0.005 of 20 steps), and each step is a pass over the catalogue.
 */
export const PICK_FOLD_IN_STEPS = 3;

/** Options of {@link foldInSoftmax}. */
export interface SoftmaxFoldInOptions {
  /** Ridge weight λ on |p - p0|². Default 1. */
  lambda?: number;
  /** Prior p0 (e.g. what the user's demographics say). Default zeros. */
  prior?: Float32Array;
  /** The softmax's support C (the movies the head was trained over). Default every item (ignored with `table`). */
  candidates?: Int32Array;
  /** The support laid out for the products ({@link SoftmaxTable}); build it once and reuse it for many users. Default: built per call. */
  table?: SoftmaxTable;
  /** Steps at most. Default 20. */
  steps?: number;
  /** Cov_π[q] at the prior, from {@link softmaxCurvature} (computed when absent; reuse it for many users sharing a prior). */
  curvature?: Float64Array;
}

/**
 * Cov_π[q] = Σ_j π_j q_j q_jᵀ - μ μᵀ (μ = E_π[q]) of a pick head's softmax π = P(· | p) over C (the
 * candidates, or a table already made of them): the curvature of its log-likelihood at p, k × k (full, row-major).
 */
export function softmaxCurvature(itemFactors: Float32Array, itemBias: Float32Array, nFactors: number, p: Float32Array, support?: Int32Array | SoftmaxTable): Float64Array {
  const k = nFactors;
  const table = support instanceof SoftmaxTable ? support : new SoftmaxTable(itemFactors, itemBias, k, support, 'js');
  const C = table.candidates;
  const s = new Float64Array(C.length);
  const lse = table.scores(p, s);
  const mean = new Float64Array(k);
  const cov = new Float64Array(k * k);
  for (let c = 0; c < C.length; c++) {
    const pi = Math.exp(s[c]! - lse);
    const jRow = C[c]! * k;
    for (let a = 0; a < k; a++) {
      const qa = pi * itemFactors[jRow + a]!;
      mean[a] += qa;
      for (let b = 0; b <= a; b++) cov[a * k + b] += qa * itemFactors[jRow + b]!;
    }
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      const v = cov[a * k + b]! - mean[a]! * mean[b]!;
      cov[a * k + b] = v;
      cov[b * k + a] = v;
    }
  }
  return cov;
}

/**
 * Fold-in of a pick head's user vector (see models/pick-head): the p that maximises the log-likelihood
 * of the movies a user picked under P(i | p) = exp(b_i + p·q_i) / Σ_{j ∈ C} exp(b_j + p·q_j), pulled
 * towards a prior,
 *   F(p) = Σ_t ln P(i_t | p) - λ |p - p0|²
 *   ∇F = Σ_t q_{i_t} - n E_π[q] - 2λ (p - p0),   -∇²F = n Cov_π[q] + 2λ I      (π = P(· | p) over C)
 * F is concave. Steps are Newton's with the curvature held at the prior, δ = (n Cov_π0 + 2λ I)⁻¹ ∇F (one
 * k × k factorisation; Cov at the prior can be shared by every user with that prior), halved until F
 * increases. With no picks the answer is p0.
 */
export function foldInSoftmax(itemFactors: Float32Array, itemBias: Float32Array, nFactors: number, items: Int32Array, options: SoftmaxFoldInOptions = {}): { userVector: Float32Array; objective: number; steps: number } {
  const k = requireInt('nFactors', nFactors, 1);
  const nItems = itemBias.length;
  if (itemFactors.length !== nItems * k) {
    throw new CollabError('INVALID_OPTION', `item factor table of length ${itemFactors.length} is not ${nItems} biases × ${k} factors`, { field: 'nFactors' });
  }
  const lambda = requireNumber('lambda', options.lambda ?? 1, 0);
  const maxSteps = requireInt('steps', options.steps ?? 20, 0);
  for (let t = 0; t < items.length; t++) {
    if (!Number.isInteger(items[t]) || items[t]! < 0 || items[t]! >= nItems) {
      throw new CollabError('INVALID_OPTION', `item index ${items[t]} is outside 0..${nItems - 1}; map raw ids with the model's item IdMap first`, { field: 'items' });
    }
  }
  const p0 = new Float32Array(k);
  if (options.prior) {
    if (options.prior.length !== k) throw new CollabError('INVALID_OPTION', `prior has ${options.prior.length} entries for ${k} factors`, { field: 'prior' });
    p0.set(options.prior);
  }
  const p = Float64Array.from(p0);
  const n = items.length;
  if (n === 0 || maxSteps === 0) return { userVector: Float32Array.from(p), objective: NaN, steps: 0 };
  const table = options.table ?? new SoftmaxTable(itemFactors, itemBias, k, options.candidates);
  if (table.k !== k) throw new CollabError('INVALID_OPTION', `the softmax table has ${table.k} factors, the fold-in ${k}`, { field: 'table' });
  const cov = options.curvature ?? softmaxCurvature(itemFactors, itemBias, k, p0, table);
  if (cov.length !== k * k) throw new CollabError('INVALID_OPTION', `curvature has ${cov.length} entries for ${k}×${k} factors`, { field: 'curvature' });
  // L Lᵀ = n Cov_π0 + 2λ I, factored once
  const L = new Float64Array(k * k);
  for (let t = 0; t < k * k; t++) L[t] = n * cov[t]!;
  for (let a = 0; a < k; a++) L[a * k + a] += 2 * lambda + 1e-9;
  choleskyFactor(L, k);
  // Σ_t q_{i_t} and Σ_t b_{i_t}, fixed
  const picked = new Float64Array(k);
  let pickedBias = 0;
  for (let t = 0; t < n; t++) {
    pickedBias += itemBias[items[t]!]!;
    for (let f = 0; f < k; f++) picked[f] += itemFactors[items[t]! * k + f]!;
  }
  const s = new Float64Array(table.size);
  const w = new Float64Array(table.size);
  const mean = new Float64Array(k);
  let lse = 0;
  // F(x) = Σ_t s_{i_t} - n lse_C(s) - λ|x - p0|², leaving the scores at x in s and their lse in lse
  const objective = (x: Float64Array): number => {
    lse = table.scores(x, s);
    let F = pickedBias - n * lse;
    for (let f = 0; f < k; f++) F += x[f]! * picked[f]! - lambda * (x[f]! - p0[f]!) ** 2;
    return F;
  };
  const g = new Float64Array(k);
  const trial = new Float64Array(k);
  let F = objective(p);
  let steps = 0;
  for (; steps < maxSteps; steps++) {
    // ∇F = Σ_t q - n E_π[q] - 2λ (p - p0), with π_j = exp(s_j - lse) from the scores at p
    for (let c = 0; c < s.length; c++) w[c] = n * Math.exp(s[c]! - lse);
    table.weighted(w, mean);
    for (let a = 0; a < k; a++) g[a] = picked[a]! - mean[a]! - 2 * lambda * (p[a]! - p0[a]!);
    choleskySubstitute(L, g, k);
    let gain = -1;
    let stepLen = 1;
    for (let half = 0; half < 20; half++, stepLen /= 2) {
      for (let a = 0; a < k; a++) trial[a] = p[a]! + stepLen * g[a]!;
      const Ft = objective(trial);
      if (Ft >= F) {
        gain = Ft - F;
        p.set(trial);
        F = Ft;
        break;
      }
    }
    // (s now holds the scores at the accepted p: it was the last objective call)
    if (gain <= 1e-10 * (1 + Math.abs(F))) {
      steps++;
      break;
    }
  }
  return { userVector: Float32Array.from(p), objective: F, steps };
}
