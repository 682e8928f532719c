import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { ROW_SCALARS, type ParamKernel } from '../kernels/param-memory.js';
import type { Param } from '../models/model.js';

/** Which optimizer: torch.optim.SGD (momentum, coupled weight decay) or torch.optim.AdamW (decoupled). */
export type OptimizerKind = 'sgd' | 'adam';

/** An optimizer over a model's params; the learner sets this step's lr and momentum (beta1 for Adam). */
export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Steps taken so far. */
  readonly steps: number;
  /** Applies the gradients the last batch accumulated, then zeroes them. */
  step(lr: number, mom: number): void;
  /** Brings every lazily updated row up to the current step (before evaluation, prediction or saving). */
  flush(): void;
}

/** Options of {@link makeOptimizer}. */
export interface OptimizerOptions {
  /** Weight decay: coupled L2 for SGD, decoupled for Adam. Default 0.01 for Adam, 0 for SGD. */
  wd?: number;
  /** Adam's beta2. Default 0.99 (fastai). */
  beta2?: number;
  /** Adam's eps. Default 1e-5 (fastai). */
  eps?: number;
  /**
   * 'wasm': AdamW steps each param that has a WebAssembly memory (`Param.kernel`) with the SIMD row kernel,
   * in float32; 'js': the JS loops everywhere (float64 intermediates). SGD always runs the JS loops. Default 'wasm'.
   */
  kernels?: 'wasm' | 'js';
  /**
   * AdamW: each sparse param's step of each row's last update, from the optimizer of another thread that steps
   * other rows of the same tables (blocked training, a batch split between two threads); this one then also takes
   * the tables' state as it is instead of zeroing it. Default: arrays of its own (on shared memory when the tables are).
   */
  lastSteps?: Int32Array[];
  /**
   * AdamW: step and flush only part `part` of `parts` of every sparse param's rows, the rows with
   * row % parts = part, while optimizers on other threads step the other parts of the same tables (with the
   * same `lastSteps` and the tables' own state: every param needs a kernel memory); a dense param is part 0's.
   * Rows are independent, so the parts together give one optimizer's result bit for bit. Default: all rows.
   */
  share?: { part: number; parts: number };
}

/** Rows narrower than this step in float64 (the JS loop's arithmetic): float32 lanes buy nothing on a bias row. */
const KERNEL_MIN_COLS = 4;

/**
 * Lazy updates of sparse tables, and why.
 *
 * PyTorch's dense AdamW/SGD move EVERY row at every step: rows a batch did not touch still get weight
 * decay, and their momentum keeps moving them. Updating the whole table per batch costs O(rows × k) per
 * step, far more than the batch itself. Dropping those moves changes the result (with wd 0.1 an embedding
 * row decays by ~40% over an epoch in PyTorch), so instead each row remembers the step it was last brought up
 * to date, and when a batch touches it again (or at a flush) the skipped zero-gradient steps are applied
 * in closed form before the current step:
 *   - AdamW: p ← A p - C m / (sqrt(v / bc2_0) + eps), m ← m Π beta1_t, v ← v beta2^s, with
 *     A = Π (1 - lr_t wd) from prefix sums of log(1 - lr_t wd) (no underflow over long gaps) and
 *     C = Σ_t lr_t / bc1_t · Π beta1 · sqrt(bc2_t / (bc2_0 beta2^(t - t0))) · Π_{j>t} (1 - lr_j wd).
 *     C is exact when eps = 0; with eps it scales eps with the denominator, a relative error that stays
 *     small inside the window. Its sum runs over at most 64 skipped steps: the terms shrink as
 *     (beta1 / sqrt(beta2))^s ≈ 0.9^s, so the tail beyond 64 steps is < 0.2% of the move. For a gap longer
 *     than the window that sum depends on t0 alone, so it is computed once per t0 and kept (at scale most
 *     rows come back after hundreds of steps, and every one of them would redo the 64-step loop).
 *   - SGD with momentum mu and L2 wd: each skipped step is the linear map
 *     (p, buf) ← [[1 - lr wd, -lr mu], [wd, mu]] (p, buf); its product over the gap is applied exactly
 *     (by repeated squaring when lr and mu were constant across the gap).
 * Each row's result matches the dense update up to float rounding (and the eps/window approximation above);
 * flush() runs before every evaluation and at the end of training.
 */
const MOMENTUM_WINDOW = 64;
/** beta2^s is tabled for gaps s below this many steps. */
const POW_GAPS = 4096;

/**
 * What a row last updated at step t needs to catch up, side by side at AT * t (32 bytes: at scale a row's last
 * step is a random one, and separate arrays would cost a cache miss each): Σ_{j ≤ t} log(1 - lr_j wd),
 * Σ_{j ≤ t} log(mom_j), and AdamW's momentum window sums from t with and without decay (NaN until first needed).
 */
const AT = 4;
const AT_LOG_DECAY = 0;
const AT_LOG_MOM = 1;
const AT_WINDOW_DECAY = 2;
const AT_WINDOW = 3;

/**
 * Per-step hyperparameters, indexed by step number t = 1, 2, ... (index 0 is the start). Kept for every step
 * (a row may catch up from any earlier one): lr, momentum, the run of constant (lr, mom), AdamW's gain and the
 * catch-up record (AT); terms that follow from these in a few operations are computed when asked, which keeps
 * a long run's log to 60 bytes a step.
 */
class StepLog {
  lr = new Float64Array(1024);
  mom = new Float64Array(1024);
  /** By step, a row's catch-up terms (see AT). */
  at = new Float64Array(1024 * AT);
  /** First step of the run of constant (lr, mom) that contains step t. */
  runStart = new Int32Array(1024);
  /** AdamW's lr_t sqrt(bc2_t) / bc1_t. */
  adamGain = new Float64Array(1024);
  /** 1 / sqrt(bc2_t) of the steps before bc2 reaches exactly 1 (it stays 1 after: beta2 is constant). */
  private invSqrtBc2 = new Float64Array(1024);
  private bc2One = Infinity;
  private readonly sqrtB2: number;

  /** A log for an optimizer with this weight decay and beta2 (the same at every step; 0 for SGD). */
  constructor(
    private readonly wd: number,
    private readonly beta2: number,
  ) {
    this.sqrtB2 = Math.sqrt(beta2);
    this.invSqrtBc2[0] = 1;
    this.at[AT_WINDOW_DECAY] = NaN;
    this.at[AT_WINDOW] = NaN;
  }

  record(t: number, lr: number, mom: number): void {
    if (t >= this.lr.length) this.grow(t * 2);
    const wd = this.wd;
    this.lr[t] = lr;
    this.mom[t] = mom;
    const at = this.at;
    const a = AT * t;
    at[a + AT_LOG_DECAY] = at[a - AT + AT_LOG_DECAY]! + Math.log(Math.max(1 - lr * wd, 1e-300));
    at[a + AT_LOG_MOM] = at[a - AT + AT_LOG_MOM]! + Math.log(Math.max(mom, 1e-300));
    at[a + AT_WINDOW_DECAY] = NaN;
    at[a + AT_WINDOW] = NaN;
    const bc2 = this.bc2(t);
    if (t < this.bc2One) {
      if (bc2 === 1) this.bc2One = t;
      else {
        if (t >= this.invSqrtBc2.length) this.invSqrtBc2 = grown(this.invSqrtBc2, 2 * t);
        this.invSqrtBc2[t] = 1 / Math.sqrt(bc2);
      }
    }
    this.adamGain[t] = (lr * Math.sqrt(bc2)) / this.bc1(t);
    this.runStart[t] = t > 1 && this.lr[t - 1] === lr && this.mom[t - 1] === mom ? this.runStart[t - 1]! : t;
  }

  /** Adam's bias corrections at step t: torch computes both with the current betas, 1 - beta^step. */
  bc1(t: number): number {
    return t === 0 ? 1 : 1 - Math.pow(this.mom[t]!, t);
  }

  bc2(t: number): number {
    return t === 0 ? 1 : 1 - Math.pow(this.beta2, t);
  }

  /** 1 / sqrt(bc2_t), read from its array only while it differs from 1 (a random read that misses the cache at scale). */
  isb(t: number): number {
    return t >= this.bc2One ? 1 : this.invSqrtBc2[t]!;
  }

  /** AdamW's catch-up factor of step t: beta1_t / ((1 - lr_t wd) sqrt(beta2)), or beta1_t / sqrt(beta2) without decay. */
  run(t: number, decays: boolean): number {
    const mom = this.mom[t]!;
    return decays ? mom / (Math.max(1 - this.lr[t]! * this.wd, 1e-300) * this.sqrtB2) : mom / this.sqrtB2;
  }

  /** 1 - lr_t wd. */
  keep(t: number): number {
    return 1 - this.lr[t]! * this.wd;
  }

  private grow(n: number): void {
    this.lr = grown(this.lr, n);
    this.mom = grown(this.mom, n);
    this.at = grown(this.at, n * AT);
    this.adamGain = grown(this.adamGain, n);
    const rs = new Int32Array(n);
    rs.set(this.runStart);
    this.runStart = rs;
  }
}

/** A copy of `a` in an array of n entries (the rest zero). */
function grown(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

/**
 * torch.optim.AdamW (fastai defaults beta2 0.99, eps 1e-5) with lazy rows for sparse tables. A table in a
 * WebAssembly memory (`Param.kernel`) has each row update run by the f32x4 kernel of src/kernels/simd.wat
 * (about 6x faster per element than the JS loop); the catch-up scalars and flush() stay in JS.
 */
export class AdamW implements Optimizer {
  readonly kind = 'adam' as const;
  steps = 0;
  private flushedAt = 0;
  readonly wd: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly log: StepLog;
  /** Each row's moments side by side, [m | v] (see ParamKernel.state); a dense param is one row. */
  private readonly state: Float32Array[];
  /** The rows being stepped and their last steps (scratch of stepAt, as long as the longest sparse table). */
  private readonly own: Int32Array;
  private readonly t0s: Int32Array;
  private readonly last: Int32Array[];
  /**
   * Catch-up scalars of every gap s ≤ MOMENTUM_WINDOW up to step `at` (with and without decay): A_s, Π beta1 and
   * the momentum sum Σ gain run at 3s, 3s + 1, 3s + 2. Every row a step touches catches up to the same step, so
   * one O(window) pass serves all of its short gaps.
   */
  private readonly shortDecay = { at: -1, values: new Float64Array(3 * (MOMENTUM_WINDOW + 1)) };
  private readonly shortNoDecay = { at: -1, values: new Float64Array(3 * (MOMENTUM_WINDOW + 1)) };
  /** beta2^s for s < POW_GAPS. */
  private readonly beta2Pow = new Float64Array(POW_GAPS);
  /** Catch-up scalars A, C, mScale, vScale of the last `scalars` call (a typed array: no boxed doubles). */
  private readonly sc = new Float64Array(4);
  /** Each param's WebAssembly memory and kernels when this optimizer steps it in wasm (its moments then live there). */
  private readonly kernel: (ParamKernel | undefined)[];
  /** This optimizer's part of every table's rows (see OptimizerOptions.share). */
  private readonly part: number;
  private readonly parts: number;

  constructor(
    readonly params: readonly Param[],
    options: OptimizerOptions = {},
  ) {
    this.wd = requireNumber('wd', options.wd ?? 0.01, 0);
    this.beta2 = requireNumber('beta2', options.beta2 ?? 0.99, 0, 1);
    this.log = new StepLog(this.wd, this.beta2);
    this.eps = requireNumber('eps', options.eps ?? 1e-5, 0);
    const kernels = options.kernels ?? 'wasm';
    if (kernels !== 'wasm' && kernels !== 'js') {
      throw new CollabError('INVALID_OPTION', `kernels must be "wasm" or "js", got "${String(kernels)}"`, { field: 'kernels' });
    }
    this.parts = requireInt('share.parts', options.share?.parts ?? 1, 1);
    this.part = requireInt('share.part', options.share?.part ?? 0, 0, this.parts - 1);
    this.beta2Pow[0] = 1;
    for (let s = 1; s < POW_GAPS; s++) this.beta2Pow[s] = this.beta2Pow[s - 1]! * this.beta2;
    // The state views in a param's memory belong to the first optimizer that claims them (an lr finder's
    // second optimizer over the same params keeps its own arrays, so the learner's state survives it).
    const adopt = options.lastSteps;
    this.kernel = params.map((p) => {
      const kern = p.kernel;
      if (kernels !== 'wasm' || !kern || kern.owner !== undefined) return undefined;
      kern.owner = this;
      if (!adopt) kern.state.fill(0);
      return kern;
    });
    this.state = params.map((p, j) => this.kernel[j]?.state ?? new Float32Array(2 * p.value.length));
    this.own = new Int32Array(params.reduce((most, p) => Math.max(most, p.sparse ? p.rows : 0), 0));
    this.t0s = new Int32Array(this.own.length);
    this.last = adopt ?? params.map((p) => (p.value.buffer instanceof SharedArrayBuffer ? new Int32Array(new SharedArrayBuffer(p.rows * 4)) : new Int32Array(p.rows)));
    if (this.parts > 1 && this.kernel.some((k) => k === undefined)) {
      throw new CollabError('INVALID_OPTION', 'share: every param needs a kernel memory this optimizer steps (the parts share its state)', { field: 'share' });
    }
  }

  /** Each param's step of each row's last update (shared memory when the tables are: another thread's optimizer can adopt them). */
  get lastSteps(): Int32Array[] {
    return this.last;
  }

  /** Appends a step with this lr and momentum to the schedule without applying it (see {@link stepAt}). */
  record(lr: number, mom: number): void {
    this.log.record(++this.steps, lr, mom);
  }

  /**
   * One AdamW step: p ← p (1 - lr wd); m ← b1 m + (1 - b1) g; v ← b2 v + (1 - b2) g²;
   * p ← p - lr/bc1 · m / (sqrt(v / bc2) + eps). A sparse row skipped since step t0 first catches up (fused into
   * the same pass): p ← A p - C r, m ← m·mScale, v ← v·vScale, where r = m / (sqrt(v / bc2_t0) + eps) is the
   * direction of the row's last update, recomputed from its moments (storing it cost more memory traffic than
   * the square root and division).
   */
  step(lr: number, mom: number): void {
    this.record(lr, mom);
    this.stepAt(this.steps);
  }

  /**
   * Applies recorded step t to the rows the gradients touched. Two threads may apply different steps at once to
   * disjoint rows of the same tables (blocked training, split batches): each row catches up over every step since
   * its own last one, whichever thread applied the steps between, so the result is the one of applying them in
   * step order.
   */
  stepAt(t: number): void {
    const log = this.log;
    const lr = log.lr[t]!;
    const mom = log.mom[t]!;
    const b1 = mom;
    const b2 = this.beta2;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const eps = this.eps;
    const stepSize = lr / log.bc1(t);
    const invSqrtBc2 = 1 / Math.sqrt(log.bc2(t));
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j]!;
      const g = p.grad;
      const wd = p.decay ? this.wd : 0;
      const decays = wd > 0;
      const keep = 1 - lr * wd;
      const w = p.value;
      const gd = g.data;
      const state = this.state[j]!;
      const k = p.cols;
      const sparse = p.sparse;
      const last = this.last[j]!;
      const kern = this.kernel[j];
      // with kernels, this loop only lists the rows and their scalars; one adamwRows call then steps them all
      const list = kern?.list;
      const rowSc = kern?.sc;
      // a sparse table's share of the touched rows (see OptimizerOptions.share) with each one's last step, read
      // in a pass of its own: on big tables most reads miss the cache, and independent loads in a tight loop
      // wait for memory together rather than one row at a time. A dense table is part 0's.
      const own = this.own;
      const t0s = this.t0s;
      let rows = sparse ? 0 : this.part === 0 ? 1 : 0;
      if (sparse) {
        const touched = g.touched;
        const parts = this.parts;
        const part = this.part;
        for (let n = 0; n < g.count; n++) {
          const row = touched[n]!;
          if (row % parts !== part) continue;
          own[rows] = row;
          t0s[rows++] = last[row]!;
          last[row] = t;
        }
      }
      for (let n = 0; n < rows; n++) {
        let from = 0;
        let to = w.length;
        let A = 1;
        let C = 0;
        let b1m = b1;
        let b2v = b2;
        let isb0 = 0;
        if (sparse) {
          const row = own[n]!;
          from = row * k;
          to = from + k;
          const t0 = t0s[n]!;
          isb0 = log.isb(t0);
          if (t0 < t - 1) {
            this.scalars(t0, t - 1, decays);
            A = this.sc[0]!;
            C = this.sc[1]!;
            b1m = b1 * this.sc[2]!;
            b2v = b2 * this.sc[3]!;
          }
        }
        // catch-up p ← A p - C r0, then m ← b1 m + (1 - b1) g; v ← b2 v + (1 - b2) g²; p ← keep p - lr/bc1 m / (sqrt(v / bc2) + eps)
        const keepA = keep * A;
        const keepC = keep * C;
        if (list) {
          list[n] = sparse ? own[n]! : 0;
          const s = n * ROW_SCALARS;
          rowSc![s] = b1m;
          rowSc![s + 1] = b2v;
          rowSc![s + 2] = keepA;
          rowSc![s + 3] = keepC;
          rowSc![s + 4] = isb0;
          continue;
        }
        // the row's moments: m at ms + e - from, v k floats (a dense param: its length) further
        const ms = 2 * from;
        const span = to - from;
        for (let e = from; e < to; e++) {
          const grad = gd[e]!;
          gd[e] = 0;
          const mi = ms + e - from;
          const m0 = state[mi]!;
          const v0 = state[mi + span]!;
          const back = keepC !== 0 ? keepC * (m0 / (Math.sqrt(v0) * isb0 + eps)) : 0;
          const me = b1m * m0 + c1 * grad;
          const ve = b2v * v0 + c2 * grad * grad;
          w[e] = keepA * w[e]! - back - stepSize * (me / (Math.sqrt(ve) * invSqrtBc2 + eps));
          state[mi] = me;
          state[mi + span] = ve;
        }
      }
      if (kern) {
        // float32 lanes for embedding rows and dense tables, the JS loop's float64 for narrow rows (biases)
        const wide = !sparse || k >= KERNEL_MIN_COLS ? 1 : 0;
        kern.exports.adamwRows(kern.listOffset, rows, sparse ? k : w.length, kern.valueOffset, kern.gradOffset, kern.stateOffset, kern.scOffset, c1, c2, invSqrtBc2, eps, stepSize, wide);
      }
      g.clearTouched();
    }
  }

  /**
   * Scalars of the closed-form catch-up from step t0 to t1 (see the note above) into `sc`.
   * With run_s = Π_{t0<j≤t} beta1_j / ((1 - lr_j wd) sqrt(beta2)), C = A / sqrt(bc2_0) Σ_t lr_t sqrt(bc2_t) / bc1_t · run_t.
   */
  private scalars(t0: number, t1: number, decays: boolean): void {
    const gap = t1 - t0;
    const L = this.log;
    let A = 1;
    let C = 0;
    let mScale = 1;
    if (t0 > 0 && gap <= MOMENTUM_WINDOW) {
      const short = this.shortGaps(t1, decays);
      A = short[3 * gap]!;
      mScale = short[3 * gap + 1]!;
      C = short[3 * gap + 2]! * A * L.isb(t0);
    } else {
      const at = L.at;
      const a0 = AT * t0;
      const a1 = AT * t1;
      if (decays) A = Math.exp(at[a1 + AT_LOG_DECAY]! - at[a0 + AT_LOG_DECAY]!);
      if (t0 > 0) {
        C = this.window(t0, decays) * A * L.isb(t0);
        mScale = Math.exp(at[a1 + AT_LOG_MOM]! - at[a0 + AT_LOG_MOM]!);
      }
    }
    this.sc[0] = A;
    this.sc[1] = C;
    this.sc[2] = mScale;
    this.sc[3] = gap < POW_GAPS ? this.beta2Pow[gap]! : Math.pow(this.beta2, gap);
  }

  /**
   * The short-gap table up to step t1, built backwards from t1 on first use in a step: with S_s the momentum sum
   * of gap s, S_{s+1} = h_t0 (gain_t0 + S_s) where t0 = t1 - s.
   */
  private shortGaps(t1: number, decays: boolean): Float64Array {
    const table = decays ? this.shortDecay : this.shortNoDecay;
    const out = table.values;
    if (table.at === t1) return out;
    table.at = t1;
    const L = this.log;
    let A = 1;
    let mScale = 1;
    let S = 0;
    out[0] = 1;
    out[1] = 1;
    out[2] = 0;
    for (let s = 0, t = t1; s < MOMENTUM_WINDOW && t > 0; s++, t--) {
      S = L.run(t, decays) * (L.adamGain[t]! + S);
      mScale *= L.mom[t]!;
      if (decays) A *= L.keep(t);
      const o = 3 * (s + 1);
      out[o] = A;
      out[o + 1] = mScale;
      out[o + 2] = S;
    }
    return out;
  }

  /** Σ_{t0<t≤t0+64} gain_t run_t (the catch-up's momentum sum over a whole window), computed once per t0. */
  private window(t0: number, decays: boolean): number {
    const L = this.log;
    const slot = AT * t0 + (decays ? AT_WINDOW_DECAY : AT_WINDOW);
    const known = L.at[slot]!;
    if (known === known) return known;
    const g = L.adamGain;
    let run = 1;
    let C = 0;
    for (let t = t0 + 1; t <= t0 + MOMENTUM_WINDOW; t++) {
      run *= L.run(t, decays);
      C += g[t]! * run;
    }
    L.at[slot] = C;
    return C;
  }

  /** Brings every sparse row up to the current step. */
  flush(): void {
    const t = this.steps;
    if (this.flushedAt === t) return;
    this.flushedAt = t;
    const eps = this.eps;
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j]!;
      if (!p.sparse) continue;
      const last = this.last[j]!;
      const decays = p.decay && this.wd > 0;
      const w = p.value;
      const state = this.state[j]!;
      const k = p.cols;
      for (let row = this.part; row < p.rows; row += this.parts) {
        const t0 = last[row]!;
        if (t0 >= t) continue;
        this.scalars(t0, t, decays);
        const A = this.sc[0]!;
        const C = this.sc[1]!;
        const mScale = this.sc[2]!;
        const vScale = this.sc[3]!;
        const isb0 = this.log.isb(t0);
        // p ← A p - C r0 (r0 = m / (sqrt(v / bc2_t0) + eps)); m ← m·mScale; v ← v·vScale
        for (let c = 0, e = row * k, mi = 2 * row * k; c < k; c++, e++, mi++) {
          const m0 = state[mi]!;
          const v0 = state[mi + k]!;
          if (C !== 0) w[e] = A * w[e]! - C * (m0 / (Math.sqrt(v0) * isb0 + eps));
          else w[e] = A * w[e]!;
          state[mi] = m0 * mScale;
          state[mi + k] = v0 * vScale;
        }
        last[row] = t;
      }
    }
  }
}

/** torch.optim.SGD with momentum (dampening 0) and coupled weight decay, with lazy rows for sparse tables. */
export class SGD implements Optimizer {
  readonly kind = 'sgd' as const;
  steps = 0;
  private flushedAt = 0;
  readonly wd: number;
  private readonly log: StepLog;
  private readonly buf: Float32Array[];
  private readonly last: Int32Array[];

  constructor(
    readonly params: readonly Param[],
    options: OptimizerOptions = {},
  ) {
    this.wd = requireNumber('wd', options.wd ?? 0, 0);
    this.log = new StepLog(this.wd, 0);
    this.buf = params.map((p) => new Float32Array(p.value.length));
    this.last = params.map((p) => new Int32Array(p.rows));
  }

  /** One SGD step: d = g + wd p; buf ← mom buf + d; p ← p - lr buf. */
  step(lr: number, mom: number): void {
    const t = ++this.steps;
    this.log.record(t, lr, mom);
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j]!;
      const g = p.grad;
      const wd = p.decay ? this.wd : 0;
      if (p.sparse) {
        const last = this.last[j]!;
        for (let n = 0; n < g.count; n++) {
          const row = g.touched[n]!;
          if (last[row]! < t - 1) this.catchUp(j, row, last[row]!, t - 1);
          this.update(j, row * p.cols, (row + 1) * p.cols, lr, mom, wd);
          last[row] = t;
        }
        g.reset(false);
      } else {
        this.update(j, 0, p.value.length, lr, mom, wd);
        g.reset(true);
      }
    }
  }

  private update(j: number, from: number, to: number, lr: number, mom: number, wd: number): void {
    const w = this.params[j]!.value;
    const gd = this.params[j]!.grad.data;
    const buf = this.buf[j]!;
    for (let e = from; e < to; e++) {
      const b = mom * buf[e]! + gd[e]! + wd * w[e]!;
      buf[e] = b;
      w[e] = w[e]! - lr * b;
    }
  }

  /** Applies the zero-gradient steps t0+1..t1 to one row: (p, buf) ← Π [[1 - lr wd, -lr mom], [wd, mom]] (p, buf). */
  private catchUp(j: number, row: number, t0: number, t1: number): void {
    const p = this.params[j]!;
    const wd = p.decay ? this.wd : 0;
    const L = this.log;
    let a = 1;
    let b = 0;
    let c = 0;
    let d = 1;
    if (L.runStart[t1]! <= t0 + 1) {
      // constant lr and mom across the gap: M^s by repeated squaring
      const lr = L.lr[t1]!;
      const mu = L.mom[t1]!;
      let ma = 1 - lr * wd;
      let mb = -lr * mu;
      let mc = wd;
      let md = mu;
      for (let s = t1 - t0; s > 0; s >>= 1) {
        if (s & 1) {
          const na = ma * a + mb * c;
          const nb = ma * b + mb * d;
          const nc = mc * a + md * c;
          const nd = mc * b + md * d;
          a = na;
          b = nb;
          c = nc;
          d = nd;
        }
        const sa = ma * ma + mb * mc;
        const sb = ma * mb + mb * md;
        const sc = mc * ma + md * mc;
        const sd = mc * mb + md * md;
        ma = sa;
        mb = sb;
        mc = sc;
        md = sd;
      }
    } else {
      for (let t = t0 + 1; t <= t1; t++) {
        const lr = L.lr[t]!;
        const mu = L.mom[t]!;
        const ma = 1 - lr * wd;
        const mb = -lr * mu;
        const na = ma * a + mb * c;
        const nb = ma * b + mb * d;
        const nc = wd * a + mu * c;
        const nd = wd * b + mu * d;
        a = na;
        b = nb;
        c = nc;
        d = nd;
      }
    }
    const w = p.value;
    const buf = this.buf[j]!;
    const from = row * p.cols;
    const to = from + p.cols;
    for (let e = from; e < to; e++) {
      const we = w[e]!;
      const be = buf[e]!;
      w[e] = a * we + b * be;
      buf[e] = c * we + d * be;
    }
  }

  /** Brings every sparse row up to the current step. */
  flush(): void {
    const t = this.steps;
    if (this.flushedAt === t) return;
    this.flushedAt = t;
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j]!;
      if (!p.sparse) continue;
      const last = this.last[j]!;
      for (let row = 0; row < p.rows; row++) {
        if (last[row]! < t) {
          this.catchUp(j, row, last[row]!, t);
          last[row] = t;
        }
      }
    }
  }
}

/** Builds the optimizer `kind` over `params`. */
export function makeOptimizer(kind: OptimizerKind, params: readonly Param[], options: OptimizerOptions = {}): Optimizer {
  if (kind === 'adam') return new AdamW(params, options);
  if (kind === 'sgd') return new SGD(params, options);
  throw new CollabError('INVALID_OPTION', `optimizer must be "sgd" or "adam", got "${String(kind)}"`, { field: 'optimizer' });
}
