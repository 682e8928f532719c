import type { Param } from '../models/model.js';
import { BATCH_BYTES, batchScratchOffset, type TrainKernelExports, type WasmMemory } from '../kernels/param-memory.js';
import { pairScale, writePairRecords, type FactorModel, type PairData, type PairKernel, type PairLink } from '../models/factor-kernels.js';
import { AdamW, makeOptimizer, type Optimizer, type OptimizerKind, type OptimizerOptions } from './optimizers.js';
import { FIRST_FREE, LockstepWorker } from '../core/lockstep-worker.js';

/** Jobs: the worker's optimizer step and flush; its share of a split batch's forward (records FROM..TO) and its side of the backward (TO records). */
export const STEP = 1;
export const FLUSH = 2;
export const FORWARD = 4;
export const ACCUMULATE = 5;
/** Job words after the lockstep ones: a split batch's record range, then the touched-row count of each param the worker steps. */
export const FROM = FIRST_FREE;
export const TO = FIRST_FREE + 1;
export const COUNTS = FIRST_FREE + 2;

/** By rows, the threads' parts of every table: rows with row % PARTS = part (a power of two, so the kernels mask). */
const PARTS = 2;

/**
 * Ratings per split pair batch call: each rating's forward leaves 16 bytes (g and err as float64) in the
 * memory's second batch scratch slot; its record (12 bytes) sits in the first.
 */
export const SPLIT_CHUNK = Math.floor(BATCH_BYTES / 16);

/**
 * A split batch's kernel arguments, the same on both threads: byte offsets of the factor tables, their
 * gradients and the bias tables' (0 without biases), of the records and of the forward's output, and the link.
 */
export interface SplitPair {
  k: number;
  p: number;
  q: number;
  gp: number;
  gq: number;
  bu: number;
  bi: number;
  gbu: number;
  gbi: number;
  batch: number;
  out: number;
  lo: number;
  span: number;
}

/** This thread's share of a split batch's forward: records from..to-1 (each rating's g and err to `out`). */
export function splitForward(ex: TrainKernelExports, s: SplitPair, from: number, to: number, scale: number): void {
  ex.pairForward(s.batch, from, to, s.k, s.p, s.q, s.bu, s.bi, s.lo, s.span, scale, s.out);
}

/**
 * This thread's share of a split batch's backward over its n records: with `byRows`, both sides' gradients of
 * the rows with row % 2 = part (the rows its optimizer steps; a user row is as likely odd as a movie row, so
 * the halves balance); else one side, part 0 the user side (gP, gbu), part 1 the item side (gQ, gbi).
 */
export function splitAccumulate(ex: TrainKernelExports, s: SplitPair, n: number, part: number, byRows: boolean): void {
  const mask = byRows ? PARTS - 1 : 0;
  if (byRows || part === 0) ex.pairAccumulate(s.batch, n, s.k, 0, s.gp, s.q, s.gbu, s.out, mask, byRows ? part : 0);
  if (byRows || part === 1) ex.pairAccumulate(s.batch, n, s.k, 4, s.gq, s.p, s.gbi, s.out, mask, byRows ? part : 0);
}

/** What the worker receives: the tables it steps with their gradients and touched lists (all shared), and a split batch's arguments. */
export interface SplitWorkerData {
  kind: OptimizerKind;
  options: OptimizerOptions;
  params: {
    name: string; rows: number; cols: number; sparse: boolean; decay: boolean; value: Float32Array; grad: Float32Array; touched: Int32Array;
    /** The param's shared WebAssembly memory and its byte offset there, when it has one: the worker binds its own kernel instance to it. */
    memory: WasmMemory | undefined;
    base: number;
  }[];
  ctl: Int32Array;
  /** lr and momentum of the current step, then a split batch's gradient scale. */
  hyper: Float64Array;
  /** The model's split batch arguments when the batches' forward and backward are split too (dot, dotbias). */
  pair: SplitPair | undefined;
  /** Whether the two optimizers share the rows of every table (else they split the tables by side). */
  byRows: boolean;
}

/** Whether a model's params split into user-side and item-side sparse tables (names userX / itemX). */
export function splitsBySide(params: readonly Param[]): boolean {
  return params.every((p) => p.sparse && (p.name.startsWith('user') || p.name.startsWith('item')) && p.value.buffer instanceof SharedArrayBuffer && p.grad.data.buffer instanceof SharedArrayBuffer);
}

/**
 * Training on two threads, the one-thread model bit for bit. The optimizer step: AdamW over tables that share
 * one kernel memory steps the even rows of every table here and the odd rows in the worker (rows are
 * independent, and both halves read the same lazy-update bookkeeping); any other optimizer steps the user-side
 * tables here and the item-side ones in the worker. Given a factor model whose minibatches run in the pair
 * kernels (dot, dotbias), {@link pairBatch} splits the batch too: each thread computes half the ratings'
 * forward, then adds the gradients of the rows it steps (AdamW: its parity of both sides; else its side) in
 * rating order, the one-thread kernel's additions. A split batch's halves meet three times a batch: after the
 * forward, after the backward (each reads factors the other steps) and after the step.
 */
export class SplitParallelOptimizer implements Optimizer {
  readonly kind: OptimizerKind;
  steps = 0;
  private readonly local: Optimizer;
  /** The params the worker steps (some of their rows or all of them). */
  private readonly remote: Param[];
  private readonly worker: LockstepWorker;
  private readonly ctl: Int32Array;
  private readonly hyper = new Float64Array(new SharedArrayBuffer(24));
  /** A split batch's model, kernel, arguments and forward output (g, err per rating), when the batches split. */
  private readonly split: { model: FactorModel; pair: PairKernel; link: PairLink | undefined; args: SplitPair; out: Float64Array } | undefined;
  /** Whether both optimizers step half of every table's rows (row % 2), rather than one side each. */
  private readonly byRows: boolean;

  constructor(params: readonly Param[], kind: OptimizerKind, options: OptimizerOptions, model?: FactorModel) {
    this.kind = kind;
    const training = model?.pairTraining();
    if (model && training) {
      const { pair, link } = training;
      // the records take the memory's first batch scratch slot, the forward's output the second
      const out = batchScratchOffset(pair.memory, 1);
      const args: SplitPair = {
        k: model.nFactors, p: pair.p, q: pair.q, gp: pair.gp, gq: pair.gq, bu: pair.bu, bi: pair.bi, gbu: pair.gbu, gbi: pair.gbi,
        batch: pair.batch, out, lo: link?.lo ?? 0, span: link?.span ?? 0,
      };
      this.split = { model, pair, link, args, out: new Float64Array(pair.memory.buffer, out, 2 * SPLIT_CHUNK) };
    }
    // by rows: a user row misses the cache more often than a movie row, so halves by side leave one thread waiting;
    // by parity, a thread adds the gradients of the rows it steps
    const byRows = this.split !== undefined && kind === 'adam' && (options.kernels ?? 'wasm') === 'wasm' && params.every((p) => p.kernel?.memory === this.split!.pair.memory);
    this.byRows = byRows;
    let remoteOptions = options;
    if (byRows) {
      const local = new AdamW(params, { ...options, share: { part: 0, parts: PARTS } });
      this.local = local;
      this.remote = [...params];
      remoteOptions = { ...options, share: { part: 1, parts: PARTS }, lastSteps: local.lastSteps };
    } else {
      this.local = makeOptimizer(kind, params.filter((p) => p.name.startsWith('user')), options);
      this.remote = params.filter((p) => !p.name.startsWith('user'));
      // the worker's optimizer owns these tables' state: no later optimizer here (an lr finder's) may claim and zero it
      for (const p of this.remote) if (p.kernel && p.kernel.owner === undefined) p.kernel.owner = this;
    }
    this.ctl = new Int32Array(new SharedArrayBuffer((COUNTS + this.remote.length) * 4));
    const data: SplitWorkerData = {
      kind,
      options: remoteOptions,
      params: this.remote.map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: p.value, grad: p.grad.data, touched: p.grad.touched, memory: p.kernel?.memory, base: p.kernel?.valueOffset ?? 0 })),
      ctl: this.ctl,
      hyper: this.hyper,
      pair: this.split?.args,
      byRows,
    };
    this.worker = new LockstepWorker(new URL('./split-parallel-worker.js', import.meta.url), data);
  }

  /** Whether {@link pairBatch} splits the model's batches (else the caller runs them). */
  get splitsBatches(): boolean {
    return this.split !== undefined;
  }

  /**
   * Forward and backward of the ratings order[start..end) on both threads (only when {@link splitsBatches}):
   * the model's trainBatch bit for bit; returns the batch's sum of squared errors.
   */
  pairBatch(data: PairData, order: Int32Array, start: number, end: number): number {
    const { model, pair, link, args, out } = this.split!;
    const ex = pair.exports;
    const scale = pairScale(link, end - start);
    this.hyper[2] = scale;
    let sse = 0;
    for (let from = start; from < end; from += SPLIT_CHUNK) {
      const n = Math.min(end, from + SPLIT_CHUNK) - from;
      writePairRecords(pair, model.pairTables, data, order, from, from + n, link !== undefined);
      const half = n >> 1;
      this.ctl[FROM] = half;
      this.ctl[TO] = n;
      this.worker.post(FORWARD);
      splitForward(ex, args, 0, half, scale);
      this.worker.wait();
      this.worker.post(ACCUMULATE);
      splitAccumulate(ex, args, n, 0, this.byRows);
      // the squared errors in rating order, as the one-thread kernel adds them
      for (let j = 0; j < n; j++) {
        const err = out[2 * j + 1]!;
        sse += err * err;
      }
      this.worker.wait();
    }
    return sse;
  }

  /** Resolves once the worker runs. */
  ready(): Promise<void> {
    return this.worker.ready();
  }

  /** Steps both halves; returns when both are done. */
  step(lr: number, mom: number): void {
    this.steps++;
    this.hyper[0] = lr;
    this.hyper[1] = mom;
    for (let j = 0; j < this.remote.length; j++) this.ctl[COUNTS + j] = this.remote[j]!.grad.count;
    this.worker.post(STEP);
    this.local.step(lr, mom);
    this.worker.wait();
    // the worker zeroed the gradient rows it read; forget them here (by rows, the local optimizer already has)
    for (const p of this.remote) if (p.grad.count > 0) p.grad.clearTouched();
  }

  /** Flushes both halves. */
  flush(): void {
    this.worker.post(FLUSH);
    this.local.flush();
    this.worker.wait();
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.worker.close();
  }
}
