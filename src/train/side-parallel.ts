import { Worker } from 'node:worker_threads';
import type { Param } from '../models/model.js';
import type { WasmMemory } from '../kernels/param-memory.js';
import { makeOptimizer, type Optimizer, type OptimizerKind, type OptimizerOptions } from './optimizers.js';
import { WORKER_EXEC_ARGV } from './worker-argv.js';

/** Control words (Int32Array on a SharedArrayBuffer). */
const GEN = 0; // bumped by the main thread to hand the worker a job
const DONE = 1; // set to the job's generation by the worker when it has finished
const OP = 2; // 1 = step, 2 = flush, 3 = quit
const COUNTS = 4; // from here: the touched-row count of each worker-side param
/** Spins before sleeping on a futex: a batch's half step takes ~10-30 µs, less than a sleep/wake round trip. */
const SPIN = 20000;

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
  /** lr and momentum of the current step. */
  hyper: Float64Array;
}

/** Waits until ctl[index] === value: spins first, then sleeps. */
export function awaitValue(ctl: Int32Array, index: number, value: number): void {
  for (let s = 0; s < SPIN; s++) if (Atomics.load(ctl, index) === value) return;
  for (;;) {
    const now = Atomics.load(ctl, index);
    if (now === value) return;
    Atomics.wait(ctl, index, now, 50);
  }
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
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly hyper = new Float64Array(new SharedArrayBuffer(16));
  private readonly started: Promise<void>;
  private gen = 0;

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
    this.worker = new Worker(new URL('./side-parallel-worker.js', import.meta.url), { workerData: data, execArgv: WORKER_EXEC_ARGV });
    this.started = new Promise((resolve, reject) => {
      this.worker.once('message', () => {
        // from here the worker waits on shared memory only; it must not keep the process alive
        this.worker.unref();
        resolve();
      });
      this.worker.once('error', reject);
    });
  }

  /** Resolves once the worker runs. */
  ready(): Promise<void> {
    return this.started;
  }

  private run(op: number): void {
    Atomics.store(this.ctl, OP, op);
    this.gen++;
    Atomics.store(this.ctl, GEN, this.gen);
    Atomics.notify(this.ctl, GEN);
  }

  /** Steps both halves; returns when both are done. */
  step(lr: number, mom: number): void {
    this.steps++;
    this.hyper[0] = lr;
    this.hyper[1] = mom;
    for (let j = 0; j < this.remote.length; j++) this.ctl[COUNTS + j] = this.remote[j]!.grad.count;
    this.run(1);
    this.local.step(lr, mom);
    awaitValue(this.ctl, DONE, this.gen);
    // the worker zeroed the gradient rows it read; forget them here
    for (const p of this.remote) p.grad.clearTouched();
  }

  /** Flushes both halves. */
  flush(): void {
    this.run(2);
    this.local.flush();
    awaitValue(this.ctl, DONE, this.gen);
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.worker.ref();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.run(3);
    await exited;
  }
}

