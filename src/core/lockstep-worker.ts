import { Worker } from 'node:worker_threads';
import { CollabError } from './errors.js';
import { WORKER_EXEC_ARGV } from './worker-argv.js';

/** What every lockstep worker's data carries: its control words and the bytes for a failed job's message (added by LockstepWorker). */
export interface LockstepData {
  ctl: Int32Array;
  failure?: Uint8Array;
}

/** Bytes for a failed job's message. */
const FAILURE_BYTES = 1024;

/** Control words of a lockstep worker (an Int32Array on a SharedArrayBuffer); a job's own words follow. */
export const GEN = 0; // bumped by the main thread to hand the worker a job
export const DONE = 1; // set to the job's generation by the worker when it has finished
export const OP = 2; // what the job is; QUIT ends the worker
export const FAILED = 3; // set by the worker when a job threw (its message is in the failure bytes)
export const FIRST_FREE = 4;
/** The op that stops a worker. */
export const QUIT = 3;
/** Spins before sleeping on a futex: a batch's share of work takes ~10-300 µs, about a sleep/wake round trip. */
const SPIN = 20000;

/** Waits until ctl[index] === value: spins first, then sleeps. */
export function awaitValue(ctl: Int32Array, index: number, value: number): void {
  for (let s = 0; s < SPIN; s++) if (Atomics.load(ctl, index) === value) return;
  for (;;) {
    const now = Atomics.load(ctl, index);
    if (now === value) return;
    Atomics.wait(ctl, index, now, 50);
  }
}

/**
 * The main thread's side of a worker that does one job per request, in step with the caller (the optimizer
 * half of SplitParallelOptimizer, the pick head of PickParallel): jobs are posted through shared control
 * words, not messages, so a job costs microseconds; the worker never keeps the process alive.
 */
export class LockstepWorker {
  private readonly worker: Worker;
  private readonly started: Promise<void>;
  private readonly failure = new Uint8Array(new SharedArrayBuffer(FAILURE_BYTES));
  private gen = 0;
  /** Whether a posted job has not been waited for yet. */
  private pending = false;

  /** Starts `script` (a URL next to the caller's module) with `data`, whose `ctl` words it watches. */
  constructor(script: URL, data: { ctl: Int32Array }, readonly ctl = data.ctl) {
    this.worker = new Worker(script, { workerData: { ...data, failure: this.failure }, execArgv: WORKER_EXEC_ARGV });
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

  /** Hands the worker job `op` (returns at once). */
  post(op: number): void {
    Atomics.store(this.ctl, OP, op);
    this.gen++;
    Atomics.store(this.ctl, GEN, this.gen);
    Atomics.notify(this.ctl, GEN);
    this.pending = true;
  }

  /**
   * Waits until the last posted job is done; throws what the worker threw if it failed. Returns at once when that
   * job was waited for already (so a caller may end a job it is not sure it started, and close after a failure).
   */
  wait(): void {
    if (!this.pending) return;
    this.pending = false;
    awaitValue(this.ctl, DONE, this.gen);
    if (Atomics.load(this.ctl, FAILED) !== 0) {
      const end = this.failure.indexOf(0);
      const message = new TextDecoder().decode(this.failure.slice(0, end < 0 ? FAILURE_BYTES : end));
      throw new CollabError('INVALID_OPTION', `a training worker thread failed: ${message}; train with threads 1 (--threads 1) to run without it`, { field: 'threads' });
    }
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.worker.ref();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.post(QUIT);
    await exited;
  }
}

/**
 * The worker's side: tells the main thread it runs, then does `job(op)` for every posted op until QUIT. A
 * job that throws marks the failure (with its message in `failure`, the bytes LockstepWorker passed in
 * the worker's data) instead of leaving the main thread waiting; later jobs are not run.
 */
export function serveLockstep(data: LockstepData, ready: () => void, job: (op: number) => void): void {
  const { ctl, failure } = data;
  ready();
  for (let gen = 1; ; gen++) {
    awaitValue(ctl, GEN, gen);
    const op = Atomics.load(ctl, OP);
    if (op === QUIT) break;
    if (Atomics.load(ctl, FAILED) === 0) {
      try {
        job(op);
      } catch (e) {
        if (failure) failure.set(new TextEncoder().encode(String(e instanceof Error ? e.message : e)).subarray(0, failure.length - 1));
        Atomics.store(ctl, FAILED, 1);
      }
    }
    Atomics.store(ctl, DONE, gen);
    Atomics.notify(ctl, DONE);
  }
}
