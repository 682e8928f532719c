import type { Param } from '../models/model.js';
import { BATCH_BYTES, type WasmMemory } from '../kernels/param-memory.js';
import { pairScale, writePairRecords, type FactorModel, type PairData, type PairKernel, type PairLink } from '../models/factor-kernels.js';
import { AdamW, makeOptimizer, type Optimizer, type OptimizerKind, type OptimizerOptions } from './optimizers.js';
import { FIRST_FREE, LockstepWorker } from '../core/lockstep-worker.js';

/** Jobs: the optimizer step and flush of the item side; a pair batch's forward over records FROM..TO, and its item-side backward over COUNT records. */
export const STEP = 1;
export const FLUSH = 2;
export const FORWARD = 4;
export const ACCUMULATE = 5;
/** Job words after the lockstep ones: the forward's record range, then the touched-row count of each worker-side param. */
export const FROM = FIRST_FREE;
export const TO = FIRST_FREE + 1;
export const COUNTS = FIRST_FREE + 2;

/**
 * Ratings per split pair batch call: each rating's forward leaves 16 bytes (g and err as float64) in the
 * memory's second batch slot, its record (12 bytes) sits in the first.
 */
export const SPLIT_CHUNK = Math.floor(BATCH_BYTES / 16);

/** A factor model's pair kernel as the worker needs it: byte offsets of the tables, the records and the forward's output, and the link. */
export interface SidePairData {
  k: number;
  p: number;
  q: number;
  gq: number;
  gbi: number;
  bu: number;
  bi: number;
  batch: number;
  out: number;
  link: PairLink | undefined;
}

/** What the worker receives: the other side's tables, gradients and touched lists, all shared. */

export interface SideWorkerData {
  kind: OptimizerKind;
  options: OptimizerOptions;
  params: {
    name: string; rows: number; cols: number; sparse: boolean; decay: boolean; value: Float32Array; grad: Float32Array; touched: Int32Array;
    /** The param's shared WebAssembly memory and its byte offset there, when it has one: the worker binds its own kernel instance to it. */
    memory: WasmMemory | undefined;
    base: number;
  }[];
  ctl: Int32Array;
  /** lr and momentum of the current step, then the forward's gradient scale. */
  hyper: Float64Array;
  /** The model's pair kernel when the batches' forward and backward are split too (dot, dotbias). */
  pair: SidePairData | undefined;
}

/** Whether a model's params split into user-side and item-side sparse tables (names userX / itemX). */
export function splitsBySide(params: readonly Param[]): boolean {
  return params.every((p) => p.sparse && (p.name.startsWith('user') || p.name.startsWith('item')) && p.value.buffer instanceof SharedArrayBuffer && p.grad.data.buffer instanceof SharedArrayBuffer);
}

/**
 * The optimizer step on two threads: the caller updates the user-side tables while a worker updates the
 * item-side ones with its own optimizer instance. Every param's update depends only on its own gradient,
 * state and the shared (lr, momentum) sequence, so the result is bit-for-bit the single-thread result.
 * Given a factor model whose minibatches run in the pair kernels (dot, dotbias), {@link pairBatch} splits the
 * batch too: each thread computes half the ratings' forward, then each adds its side's gradients in rating
 * order (the same bits as the one-thread kernel); the halves meet three times a batch.
 */
export class SideParallelOptimizer implements Optimizer {
  readonly kind: OptimizerKind;
  steps = 0;
  private readonly local: Optimizer;
  private readonly remote: Param[];
  private readonly worker: LockstepWorker;
  private readonly ctl: Int32Array;
  private readonly hyper = new Float64Array(new SharedArrayBuffer(24));
  /** The split batch's model, kernel, tables and output views, when it has one. */
  private readonly split: { model: FactorModel; pair: PairKernel; link: PairLink | undefined; out: number; errs: Float64Array } | undefined;

  constructor(params: readonly Param[], kind: OptimizerKind, options: OptimizerOptions, model?: FactorModel) {
    this.kind = kind;
    const training = model?.pairTraining();
    const pair = model?.pair;
    // the forward's output takes the memory's second batch slot (the first holds the records)
    if (model && training && pair && (training.link === undefined || pair.bu !== 0)) {
      const out = pair.memory.buffer.byteLength - BATCH_BYTES;
      this.split = { model, pair, link: training.link, out, errs: new Float64Array(pair.memory.buffer, out, 2 * SPLIT_CHUNK) };
    }
    // AdamW over tables that all live in one kernel memory steps half of every table's rows on each thread
    // (a user row misses the cache more often than a movie row, so halves by side would leave one thread idle);
    // otherwise the caller steps the user side and the worker the item side
    const byRows = this.split !== undefined && kind === 'adam' && (options.kernels ?? 'wasm') === 'wasm' && params.every((p) => p.kernel?.memory === this.split!.pair.memory);
    let remoteOptions = options;
    if (byRows) {
      const local = new AdamW(params, { ...options, share: { part: 0, parts: 2 } });
      this.local = local;
      this.remote = [...params];
      remoteOptions = { ...options, share: { part: 1, parts: 2 }, lastSteps: local.lastSteps };
    } else {
      this.local = makeOptimizer(kind, params.filter((p) => p.name.startsWith('user')), options);
      this.remote = params.filter((p) => !p.name.startsWith('user'));
    }
    this.ctl = new Int32Array(new SharedArrayBuffer((COUNTS + this.remote.length) * 4));
    const data: SideWorkerData = {
      kind,
      options: remoteOptions,
      params: this.remote.map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: p.value, grad: p.grad.data, touched: p.grad.touched, memory: p.kernel?.memory, base: p.kernel?.valueOffset ?? 0 })),
      ctl: this.ctl,
      hyper: this.hyper,
      pair: this.split && { k: model!.nFactors, p: pair!.p, q: pair!.q, gq: pair!.gq, gbi: pair!.gbi, bu: pair!.bu, bi: pair!.bi, batch: pair!.batch, out: this.split.out, link: this.split.link },
    };
    this.worker = new LockstepWorker(new URL('./side-parallel-worker.js', import.meta.url), data);
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
    const { model, pair, link, out, errs } = this.split!;
    const k = model.nFactors;
    const tables = model.pairTables;
    const scale = pairScale(link, end - start);
    const lo = link?.lo ?? 0;
    const span = link?.span ?? 0;
    const ex = pair.exports;
    this.hyper[2] = scale;
    let sse = 0;
    for (let from = start; from < end; from += SPLIT_CHUNK) {
      const n = Math.min(end, from + SPLIT_CHUNK) - from;
      writePairRecords(pair, tables, data, order, from, from + n, link !== undefined);
      // the worker takes the second half of the forward, then the item side of the backward
      const half = n >> 1;
      this.ctl[FROM] = half;
      this.ctl[TO] = n;
      this.worker.post(FORWARD);
      ex.pairForward(pair.batch, 0, half, k, pair.p, pair.q, pair.bu, pair.bi, lo, span, scale, out);
      this.worker.wait();
      this.ctl[TO] = n;
      this.worker.post(ACCUMULATE);
      ex.pairAccumulate(pair.batch, n, k, 0, pair.gp, pair.q, pair.gbu, out);
      for (let j = 0; j < n; j++) {
        const err = errs[2 * j + 1]!;
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
    // the worker zeroed the gradient rows it read; forget them here
    for (const p of this.remote) p.grad.clearTouched();
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
