import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { ParamKernel } from '../kernels/param-memory.js';
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
   * AdamW: step only part `part` of `parts` of every sparse param's touched rows (in list order) and flush only
   * that share of its rows, while optimizers on other threads step the other parts of the same tables (with the
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
/** Catch-up scalars are cached per gap length below this many steps. */
const CACHE_GAPS = 4096;

/** Per-step hyperparameters, indexed by step number t = 1, 2, ... (index 0 is the start). */
class StepLog {
  lr = new Float64Array(1024);
  mom = new Float64Array(1024);
  /** Σ_{j ≤ t} log(1 - lr_j wd). */
  logDecay = new Float64Array(1024);
  /** Σ_{j ≤ t} log(mom_j). */
  logMom = new Float64Array(1024);
  /** Adam's bias corrections at step t. */
  bc1 = new Float64Array(1024);
  bc2 = new Float64Array(1024);
  /** First step of the run of constant (lr, mom) that contains step t. */
  runStart = new Int32Array(1024);
  /** AdamW catch-up factors: beta1_t / ((1 - lr_t wd) sqrt(beta2)), the same without decay, and lr_t sqrt(bc2_t) / bc1_t. */
  adamRunDecay = new Float64Array(1024);
  adamRun = new Float64Array(1024);
  adamGain = new Float64Array(1024);
  /** 1 - lr_t wd. */
  keep = new Float64Array(1024);

  constructor() {
    this.bc1[0] = 1;
    this.bc2[0] = 1;
  }

  record(t: number, lr: number, mom: number, wd: number, beta2: number): void {
    if (t >= this.lr.length) this.grow(t * 2);
    this.lr[t] = lr;
    this.mom[t] = mom;
    this.logDecay[t] = this.logDecay[t - 1]! + Math.log(Math.max(1 - lr * wd, 1e-300));
    this.logMom[t] = this.logMom[t - 1]! + Math.log(Math.max(mom, 1e-300));
    // torch computes both corrections with the current betas: 1 - beta^step.
    this.bc1[t] = 1 - Math.pow(mom, t);
    this.bc2[t] = 1 - Math.pow(beta2, t);
    const sqrtB2 = Math.sqrt(beta2);
    this.adamRunDecay[t] = mom / (Math.max(1 - lr * wd, 1e-300) * sqrtB2);
    this.adamRun[t] = mom / sqrtB2;
    this.adamGain[t] = (lr * Math.sqrt(this.bc2[t]!)) / this.bc1[t]!;
    this.keep[t] = 1 - lr * wd;
    this.runStart[t] = t > 1 && this.lr[t - 1] === lr && this.mom[t - 1] === mom ? this.runStart[t - 1]! : t;
  }

  private grow(n: number): void {
    const g64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.lr = g64(this.lr);
    this.mom = g64(this.mom);
    this.logDecay = g64(this.logDecay);
    this.logMom = g64(this.logMom);
    this.bc1 = g64(this.bc1);
    this.bc2 = g64(this.bc2);
    this.adamRunDecay = g64(this.adamRunDecay);
    this.adamRun = g64(this.adamRun);
    this.adamGain = g64(this.adamGain);
    this.keep = g64(this.keep);
    const rs = new Int32Array(n);
    rs.set(this.runStart);
    this.runStart = rs;
  }
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
  private readonly log = new StepLog();
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  /** Direction r = m / (sqrt(v / bc2) + eps) of each element's last update (the catch-up's momentum move). */
  private readonly dir: Float32Array[];
  private readonly last: Int32Array[];
  private readonly cacheDecay = { stamp: new Int32Array(CACHE_GAPS).fill(-1), values: new Float64Array(CACHE_GAPS * 4) };
  private readonly cacheNoDecay = { stamp: new Int32Array(CACHE_GAPS).fill(-1), values: new Float64Array(CACHE_GAPS * 4) };
  /** beta2^s for s < CACHE_GAPS. */
  private readonly beta2Pow = new Float64Array(CACHE_GAPS);
  /** Catch-up scalars A, C, mScale, vScale of the last `scalars` call (a typed array: no boxed doubles). */
  private readonly sc = new Float64Array(4);
  /** The window sum Σ_{t0<t≤t0+64} gain_t run_t of a gap longer than the window, by t0 (NaN: not yet computed), with and without decay. */
  private windowDecay = new Float64Array(0);
  private windowNoDecay = new Float64Array(0);
  /** Each param's WebAssembly memory and kernels when this optimizer steps it in wasm (m, v, dir then live there). */
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
    this.eps = requireNumber('eps', options.eps ?? 1e-5, 0);
    const kernels = options.kernels ?? 'wasm';
    if (kernels !== 'wasm' && kernels !== 'js') {
      throw new CollabError('INVALID_OPTION', `kernels must be "wasm" or "js", got "${String(kernels)}"`, { field: 'kernels' });
    }
    this.parts = requireInt('share.parts', options.share?.parts ?? 1, 1);
    this.part = requireInt('share.part', options.share?.part ?? 0, 0, this.parts - 1);
    this.beta2Pow[0] = 1;
    for (let s = 1; s < CACHE_GAPS; s++) this.beta2Pow[s] = this.beta2Pow[s - 1]! * this.beta2;
    // The state views in a param's memory belong to the first optimizer that claims them (an lr finder's
    // second optimizer over the same params keeps its own arrays, so the learner's state survives it).
    const adopt = options.lastSteps;
    this.kernel = params.map((p) => {
      const kern = p.kernel;
      if (kernels !== 'wasm' || !kern || kern.owner !== undefined) return undefined;
      kern.owner = this;
      if (!adopt) {
        kern.m.fill(0);
        kern.v.fill(0);
        kern.r.fill(0);
      }
      return kern;
    });
    this.m = params.map((p, j) => this.kernel[j]?.m ?? new Float32Array(p.value.length));
    this.v = params.map((p, j) => this.kernel[j]?.v ?? new Float32Array(p.value.length));
    this.dir = params.map((p, j) => this.kernel[j]?.r ?? new Float32Array(p.value.length));
    this.last = adopt ?? params.map((p) => (p.value.buffer instanceof SharedArrayBuffer ? new Int32Array(new SharedArrayBuffer(p.rows * 4)) : new Int32Array(p.rows)));
    if (this.parts > 1 && this.kernel.some((k) => k === undefined)) {
      throw new CollabError('INVALID_OPTION', 'share: every param needs a kernel memory this optimizer steps (the parts share its state)', { field: 'share' });
    }
  }

  /** Where part `part` of n things starts (part `parts` is n): this optimizer's share is [bound(part), bound(part + 1)). */
  private shareBound(n: number, part: number): number {
    return Math.floor((n * part) / this.parts);
  }

  /** Each param's step of each row's last update (shared memory when the tables are: another thread's optimizer can adopt them). */
  get lastSteps(): Int32Array[] {
    return this.last;
  }

  /** Appends a step with this lr and momentum to the schedule without applying it (see {@link stepAt}). */
  record(lr: number, mom: number): void {
    this.log.record(++this.steps, lr, mom, this.wd, this.beta2);
  }

  /**
   * One AdamW step: p ← p (1 - lr wd); m ← b1 m + (1 - b1) g; v ← b2 v + (1 - b2) g²;
   * p ← p - lr/bc1 · m / (sqrt(v / bc2) + eps). A sparse row skipped since step t0 first catches up (fused into
   * the same pass): p ← A p - C r, m ← m·mScale, v ← v·vScale, where r = m / (sqrt(v / bc2) + eps) is the
   * direction stored at the row's last update, so the catch-up costs no square root or division.
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
    const stepSize = lr / log.bc1[t]!;
    const invSqrtBc2 = 1 / Math.sqrt(log.bc2[t]!);
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j]!;
      const g = p.grad;
      const wd = p.decay ? this.wd : 0;
      const decays = wd > 0;
      const keep = 1 - lr * wd;
      const w = p.value;
      const gd = g.data;
      const m = this.m[j]!;
      const v = this.v[j]!;
      const r = this.dir[j]!;
      const k = p.cols;
      const sparse = p.sparse;
      const last = this.last[j]!;
      const touched = g.touched;
      // a sparse table's share of the touched rows; a dense table is part 0's
      const first = sparse ? this.shareBound(g.count, this.part) : 0;
      const rows = sparse ? this.shareBound(g.count, this.part + 1) - first : this.part === 0 ? 1 : 0;
      const kern = this.kernel[j];
      // with kernels, this loop only lists the rows and their scalars; one adamwRows call then steps them all
      const list = kern?.list;
      const rowSc = kern?.sc;
      for (let n = 0; n < rows; n++) {
        let from = 0;
        let to = w.length;
        let A = 1;
        let C = 0;
        let b1m = b1;
        let b2v = b2;
        if (sparse) {
          const row = touched[first + n]!;
          from = row * k;
          to = from + k;
          const t0 = last[row]!;
          last[row] = t;
          if (t0 < t - 1) {
            this.scalars(t0, t - 1, decays);
            A = this.sc[0]!;
            C = this.sc[1]!;
            b1m = b1 * this.sc[2]!;
            b2v = b2 * this.sc[3]!;
          }
        }
        // catch-up p ← A p - C r, then m ← b1 m + (1 - b1) g; v ← b2 v + (1 - b2) g²; r = m / (sqrt(v / bc2) + eps); p ← keep p - lr/bc1 r
        const keepA = keep * A;
        const keepC = keep * C;
        if (list) {
          list[n] = sparse ? touched[first + n]! : 0;
          const s = n * 4;
          rowSc![s] = b1m;
          rowSc![s + 1] = b2v;
          rowSc![s + 2] = keepA;
          rowSc![s + 3] = keepC;
          continue;
        }
        for (let e = from; e < to; e++) {
          const grad = gd[e]!;
          gd[e] = 0;
          const me = b1m * m[e]! + c1 * grad;
          const ve = b2v * v[e]! + c2 * grad * grad;
          const re = me / (Math.sqrt(ve) * invSqrtBc2 + eps);
          w[e] = keepA * w[e]! - keepC * r[e]! - stepSize * re;
          m[e] = me;
          v[e] = ve;
          r[e] = re;
        }
      }
      if (kern) {
        // float32 lanes for embedding rows and dense tables, the JS loop's float64 for narrow rows (biases)
        const wide = !sparse || k >= KERNEL_MIN_COLS ? 1 : 0;
        kern.exports.adamwRows(kern.listOffset, rows, sparse ? k : w.length, kern.valueOffset, kern.gradOffset, kern.mOffset, kern.vOffset, kern.rOffset, kern.scOffset, c1, c2, invSqrtBc2, eps, stepSize, wide);
      }
      g.clearTouched();
    }
  }

  /**
   * Scalars of the closed-form catch-up from step t0 to t1 (see the note above) into `sc`.
   * With run_s = Π_{t0<j≤t} beta1_j / ((1 - lr_j wd) sqrt(beta2)), C = A / sqrt(bc2_0) Σ_t lr_t sqrt(bc2_t) / bc1_t · run_t.
   * Within one step every row catches up to the same t1, so results are cached by gap length.
   */
  private scalars(t0: number, t1: number, decays: boolean): void {
    const gap = t1 - t0;
    const cache = decays ? this.cacheDecay : this.cacheNoDecay;
    if (gap < CACHE_GAPS && cache.stamp[gap] === t1) {
      const c = gap * 4;
      this.sc[0] = cache.values[c]!;
      this.sc[1] = cache.values[c + 1]!;
      this.sc[2] = cache.values[c + 2]!;
      this.sc[3] = cache.values[c + 3]!;
      return;
    }
    const L = this.log;
    let A = 1;
    let C = 0;
    let mScale = 1;
    if (t0 > 0 && gap <= MOMENTUM_WINDOW) {
      // short gap: A and Π beta1 as running products inside the momentum sum (no exp)
      const h = decays ? L.adamRunDecay : L.adamRun;
      const g = L.adamGain;
      const keep = L.keep;
      const mom = L.mom;
      let run = 1;
      for (let t = t0 + 1; t <= t1; t++) {
        run *= h[t]!;
        C += g[t]! * run;
        mScale *= mom[t]!;
        if (decays) A *= keep[t]!;
      }
      C *= A / Math.sqrt(L.bc2[t0]!);
    } else {
      if (decays) A = Math.exp(L.logDecay[t1]! - L.logDecay[t0]!);
      if (t0 > 0) {
        C = this.window(t0, decays) * (A / Math.sqrt(L.bc2[t0]!));
        mScale = Math.exp(L.logMom[t1]! - L.logMom[t0]!);
      }
    }
    this.sc[0] = A;
    this.sc[1] = C;
    this.sc[2] = mScale;
    this.sc[3] = gap < CACHE_GAPS ? this.beta2Pow[gap]! : Math.pow(this.beta2, gap);
    if (gap < CACHE_GAPS) {
      cache.stamp[gap] = t1;
      const c = gap * 4;
      cache.values[c] = A;
      cache.values[c + 1] = C;
      cache.values[c + 2] = this.sc[2]!;
      cache.values[c + 3] = this.sc[3]!;
    }
  }

  /** Σ_{t0<t≤t0+64} gain_t run_t (the catch-up's momentum sum over a whole window), computed once per t0. */
  private window(t0: number, decays: boolean): number {
    let memo = decays ? this.windowDecay : this.windowNoDecay;
    if (t0 >= memo.length) {
      const grown = new Float64Array(Math.max(1024, 2 * t0)).fill(NaN);
      grown.set(memo);
      memo = grown;
      if (decays) this.windowDecay = grown;
      else this.windowNoDecay = grown;
    }
    const known = memo[t0]!;
    if (known === known) return known;
    const L = this.log;
    const h = decays ? L.adamRunDecay : L.adamRun;
    const g = L.adamGain;
    let run = 1;
    let C = 0;
    for (let t = t0 + 1; t <= t0 + MOMENTUM_WINDOW; t++) {
      run *= h[t]!;
      C += g[t]! * run;
    }
    memo[t0] = C;
    return C;
  }

  /** Brings every sparse row up to the current step, then re-bases its stored direction r on this step. */
  flush(): void {
    const t = this.steps;
    if (this.flushedAt === t) return;
    this.flushedAt = t;
    const eps = this.eps;
    const invSqrtBc2 = 1 / Math.sqrt(this.log.bc2[t]!);
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j]!;
      if (!p.sparse) continue;
      const last = this.last[j]!;
      const decays = p.decay && this.wd > 0;
      const w = p.value;
      const m = this.m[j]!;
      const v = this.v[j]!;
      const r = this.dir[j]!;
      const k = p.cols;
      const end = this.shareBound(p.rows, this.part + 1);
      for (let row = this.shareBound(p.rows, this.part); row < end; row++) {
        const t0 = last[row]!;
        if (t0 >= t) continue;
        this.scalars(t0, t, decays);
        const A = this.sc[0]!;
        const C = this.sc[1]!;
        const mScale = this.sc[2]!;
        const vScale = this.sc[3]!;
        // p ← A p - C r; m ← m·mScale; v ← v·vScale; r ← m / (sqrt(v / bc2_t) + eps)
        for (let e = row * k; e < (row + 1) * k; e++) {
          const me = m[e]! * mScale;
          const ve = v[e]! * vScale;
          w[e] = A * w[e]! - C * r[e]!;
          m[e] = me;
          v[e] = ve;
          r[e] = me / (Math.sqrt(ve) * invSqrtBc2 + eps);
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
  private readonly log = new StepLog();
  private readonly buf: Float32Array[];
  private readonly last: Int32Array[];

  constructor(
    readonly params: readonly Param[],
    options: OptimizerOptions = {},
  ) {
    this.wd = requireNumber('wd', options.wd ?? 0, 0);
    this.buf = params.map((p) => new Float32Array(p.value.length));
    this.last = params.map((p) => new Int32Array(p.rows));
  }

  /** One SGD step: d = g + wd p; buf ← mom buf + d; p ← p - lr buf. */
  step(lr: number, mom: number): void {
    const t = ++this.steps;
    this.log.record(t, lr, mom, this.wd, 0);
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
