import type { Param } from '../models/model.js';
import type { WasmMemory } from '../kernels/param-memory.js';
import { makeOptimizer, type Optimizer, type OptimizerKind, type OptimizerOptions } from './optimizers.js';
import { FIRST_FREE, LockstepWorker } from '../core/lockstep-worker.js';

/** Job words after the lockstep ones: the touched-row count of each worker-side param. */
const COUNTS = FIRST_FREE;
const STEP = 1;
const FLUSH = 2;

/** What the worker receives: the other side's tables, gradients and touched lists, all shared. */
export { COUNTS, STEP, FLUSH };

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
  /** lr and momentum of the current step. */
  hyper: Float64Array;
}

/** Whether a model's params split into user-side and item-side sparse tables (names userX / itemX). */
export function splitsBySide(params: readonly Param[]): boolean {
  return params.every((p) => p.sparse && (p.name.startsWith('user') || p.name.startsWith('item')) && p.value.buffer instanceof SharedArrayBuffer && p.grad.data.buffer instanceof SharedArrayBuffer);
}

/**
 * The optimizer step on two threads: the caller updates the user-side tables while a worker updates the
 * item-side ones with its own optimizer instance. Every param's update depends only on its own gradient,
 * state and the shared (lr, momentum) sequence, so the result is bit-for-bit the single-thread result; the
 * forward/backward pass stays on the caller, and the two halves meet once per batch.
 */
export class SideParallelOptimizer implements Optimizer {
  readonly kind: OptimizerKind;
  steps = 0;
  private readonly local: Optimizer;
  private readonly remote: Param[];
  private readonly worker: LockstepWorker;
  private readonly ctl: Int32Array;
  private readonly hyper = new Float64Array(new SharedArrayBuffer(16));

  constructor(params: readonly Param[], kind: OptimizerKind, options: OptimizerOptions) {
    this.kind = kind;
    const mine = params.filter((p) => p.name.startsWith('user'));
    this.remote = params.filter((p) => !p.name.startsWith('user'));
    this.local = makeOptimizer(kind, mine, options);
    this.ctl = new Int32Array(new SharedArrayBuffer((COUNTS + this.remote.length) * 4));
    const data: SideWorkerData = {
      kind,
      options,
      params: this.remote.map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: p.value, grad: p.grad.data, touched: p.grad.touched, memory: p.kernel?.memory, base: p.kernel?.valueOffset ?? 0 })),
      ctl: this.ctl,
      hyper: this.hyper,
    };
    this.worker = new LockstepWorker(new URL('./side-parallel-worker.js', import.meta.url), data);
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
