import { Worker } from 'node:worker_threads';
import type { Ratings } from '../data/ratings.js';
import { funkSgd, type BiasedMF } from '../models/mf.js';
import type { Schedule } from './schedules.js';
import { WORKER_EXEC_ARGV } from '../core/worker-argv.js';

/** Ratings per thread between two synchronisation points (each segment uses one lr of the schedule). */
const SEGMENT = 4096;

/** Control words in the shared Int32Array. */
const GEN = 0;
const DONE = 1;
const QUIT = 2;

/** What a Hogwild worker receives (all arrays on SharedArrayBuffer). */
export interface HogwildWorkerData {
  id: number;
  k: number;
  mu: number;
  P: Float32Array;
  Q: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  order: Int32Array;
  ctl: Int32Array;
  /** Per worker: start, end, lr, reg, sse. */
  job: Float64Array;
}

function sharedCopy<T extends Int32Array | Float32Array>(a: T, make: (b: SharedArrayBuffer) => T): T {
  const out = make(new SharedArrayBuffer(a.length * 4));
  out.set(a);
  return out;
}

/**
 * Hogwild per-rating SGD for a BiasedMF on shared tables (Recht et al. 2011): each epoch's shuffled order is
 * cut into segments; in each segment every thread (the caller plus threads - 1 workers) runs funkSgd on its
 * own slice without locks. Collisions on a row are rare and only lose an update now and then, which SGD
 * tolerates; the price is that a multi-thread run is not bit-for-bit reproducible (use threads = 1 for that).
 */
export class HogwildPool {
  private readonly workers: Worker[] = [];
  private readonly ctl = new Int32Array(new SharedArrayBuffer(16));
  private readonly job: Float64Array;
  private readonly order: Int32Array;
  private readonly users: Int32Array;
  private readonly items: Int32Array;
  private readonly ratings: Float32Array;
  private readonly started: Promise<void>;

  constructor(
    private readonly model: BiasedMF,
    train: Ratings,
    private readonly learnerOrder: Int32Array,
    readonly threads: number,
  ) {
    this.job = new Float64Array(new SharedArrayBuffer(threads * 5 * 8));
    this.order = new Int32Array(new SharedArrayBuffer(learnerOrder.length * 4));
    this.users = sharedCopy(train.users, (b) => new Int32Array(b));
    this.items = sharedCopy(train.items, (b) => new Int32Array(b));
    this.ratings = sharedCopy(train.ratings, (b) => new Float32Array(b));
    const waits: Promise<void>[] = [];
    for (let id = 1; id < threads; id++) {
      const data: HogwildWorkerData = {
        id,
        k: model.nFactors,
        mu: model.globalMean,
        P: model.userFactors.value,
        Q: model.itemFactors.value,
        bu: model.userBias.value,
        bi: model.itemBias.value,
        users: this.users,
        items: this.items,
        ratings: this.ratings,
        order: this.order,
        ctl: this.ctl,
        job: this.job,
      };
      const w = new Worker(new URL('./hogwild-worker.js', import.meta.url), { workerData: data, execArgv: WORKER_EXEC_ARGV });
      this.workers.push(w);
      waits.push(
        new Promise((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
        }),
      );
    }
    this.started = Promise.all(waits).then(() => undefined);
  }

  /** Resolves once every worker is running. */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * One epoch over the learner's current order, with the lr of each segment taken from `lr` at progress
   * pos0 + (pos1 - pos0) · segment / segments. Returns the epoch's sum of squared errors.
   */
  epoch(lr: Schedule, pos0: number, pos1: number, reg: number): number {
    this.order.set(this.learnerOrder);
    const n = this.order.length;
    const T = this.threads;
    const per = SEGMENT * T;
    const segments = Math.ceil(n / per);
    const m = this.model;
    let sse = 0;
    for (let s = 0; s < segments; s++) {
      const base = s * per;
      const len = Math.min(per, n - base);
      const rate = lr(pos0 + ((pos1 - pos0) * s) / segments);
      for (let w = 1; w < T; w++) {
        const j = w * 5;
        this.job[j] = base + Math.floor((len * w) / T);
        this.job[j + 1] = base + Math.floor((len * (w + 1)) / T);
        this.job[j + 2] = rate;
        this.job[j + 3] = reg;
      }
      Atomics.store(this.ctl, DONE, 0);
      Atomics.add(this.ctl, GEN, 1);
      Atomics.notify(this.ctl, GEN);
      sse += funkSgd(
        m.userFactors.value, m.itemFactors.value, m.userBias.value, m.itemBias.value, m.nFactors, m.globalMean,
        this.users, this.items, this.ratings, this.order, base, base + Math.floor(len / T), rate, reg,
      );
      for (;;) {
        const done = Atomics.load(this.ctl, DONE);
        if (done >= T - 1) break;
        Atomics.wait(this.ctl, DONE, done);
      }
      for (let w = 1; w < T; w++) sse += this.job[w * 5 + 4]!;
    }
    return sse;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    Atomics.store(this.ctl, QUIT, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(this.workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }
}
