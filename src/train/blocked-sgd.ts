import type { RandomState } from '../core/random.js';
import { FIRST_FREE, LockstepWorker, serveLockstep, type LockstepData } from '../core/lockstep-worker.js';
import { bindSgdKernel, sgdLayout, sgdMemory, type SgdKernelExports, type SgdLayout } from '../kernels/sgd-memory.js';
import type { WasmMemory } from '../kernels/param-memory.js';
import { blockGrid, blockRounds } from '../data/blocks.js';
import { gatherColumns, type Ratings } from '../data/ratings.js';
import { funkSgd, type BiasedMF } from '../models/mf.js';
import type { Schedule } from './schedules.js';

/**
 * Bins per side of the grid: fixed, never taken from the thread count, so a run gives the same model on any
 * number of threads. 16 × 16 blocks keep each block's slice of the item table in cache at 10M ratings and
 * give a round 16 blocks to share among the threads (one that draws the largest block does not hold the
 * others back long).
 */
export const SGD_BINS = 16;

/** The op that trains the current round. */
const ROUND = 1;

/** What a blocked-SGD worker receives (arrays on SharedArrayBuffer, the kernel memory shared). */
export interface BlockedSgdWorkerData extends LockstepData {
  memory: WasmMemory;
  layout: SgdLayout;
  mu: number;
  /** Rows of each block in the kernel's columns: block b at [blockStart[b], blockStart[b + 1]). */
  blockStart: Int32Array;
  /** The current round's blocks, largest first. */
  round: Int32Array;
  /** [0]: next entry of `round` to claim (shared by every thread). */
  claim: Int32Array;
  /** [0]: lr, [1]: reg of the current round. */
  job: Float64Array;
  /** Sum of squared errors of each block's last pass. */
  blockSse: Float64Array;
}

/** Claims the round's blocks one at a time until none is left, training each (the caller's and every worker's loop). */
function trainClaimed(kernel: SgdKernelExports, d: Omit<BlockedSgdWorkerData, 'ctl' | 'memory'>): void {
  const { layout: L, blockStart, round, claim, job, blockSse } = d;
  const lr = job[0]!;
  const reg = job[1]!;
  for (;;) {
    const j = Atomics.add(claim, 0, 1);
    if (j >= round.length) return;
    const b = round[j]!;
    blockSse[b] = kernel.sgdRange(L.P, L.Q, L.bu, L.bi, L.users, L.items, L.ratings, blockStart[b]!, blockStart[b + 1]!, L.kp, d.mu, lr, reg);
  }
}

/** Runs in a worker thread: trains its share of each round until told to quit. */
export function serveBlockedSgd(data: BlockedSgdWorkerData, ready: () => void): void {
  const kernel = bindSgdKernel(data.memory);
  serveLockstep(data, ready, () => trainClaimed(kernel, data));
}

/**
 * LIBMF's FPSGD (Zhuang et al. 2013) for a BiasedMF: the ratings are cut into a SGD_BINS × SGD_BINS grid of
 * blocks (rows stored block by block, by user inside a block) in one WebAssembly memory with the factor and
 * bias tables, and an epoch is SGD_BINS rounds of blocks that share no user and no item: the caller and
 * threads - 1 lockstep workers claim a round's blocks one by one and run the SIMD kernel over each. Blocks
 * of a round touch disjoint rows, so the model is bit for bit the same on any number of threads; it depends
 * on the seed only. The model's own tables are copied in by `load` and out by `store`.
 */
export class BlockedSgd {
  private readonly workers: LockstepWorker[] = [];
  private readonly data: Omit<BlockedSgdWorkerData, 'ctl'>;
  private readonly kernel: SgdKernelExports | undefined;
  private readonly P: Float32Array;
  private readonly Q: Float32Array;
  private readonly bu: Float32Array;
  private readonly bi: Float32Array;
  /** Without wasm SIMD: the grid's row order, trained by the JS funkSgd on the model's own tables, one thread. */
  private readonly jsRows: Int32Array | undefined;
  private readonly started: Promise<void>;

  constructor(
    private readonly model: BiasedMF,
    private readonly train: Ratings,
    readonly threads: number,
    rng: RandomState,
  ) {
    const n = train.ratings.length;
    const grid = blockGrid(train.users, train.items, model.nUsers, model.nItems, SGD_BINS, rng, { byUser: true });
    const layout = sgdLayout(model.nUsers, model.nItems, model.nFactors, n);
    const mem = sgdMemory(layout, threads > 1);
    const share = <T>(bytes: number, make: (b: ArrayBuffer | SharedArrayBuffer) => T): T => make(threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    const nb = SGD_BINS * SGD_BINS;
    const blockStart = share(grid.blockStart.byteLength, (b) => new Int32Array(b));
    blockStart.set(grid.blockStart);
    this.data = {
      memory: mem?.memory ?? { buffer: new ArrayBuffer(0) },
      layout,
      mu: model.globalMean,
      blockStart,
      round: share(SGD_BINS * 4, (b) => new Int32Array(b)),
      claim: share(4, (b) => new Int32Array(b)),
      job: share(16, (b) => new Float64Array(b)),
      blockSse: share(nb * 8, (b) => new Float64Array(b)),
    };
    if (!mem) {
      // no SIMD (or beyond 4 GiB): the same block schedule in JS on one thread
      this.jsRows = grid.rows;
      this.kernel = undefined;
      this.P = this.Q = this.bu = this.bi = new Float32Array(0);
      this.threads = 1;
      this.started = Promise.resolve();
      return;
    }
    this.jsRows = undefined;
    this.kernel = mem.exports;
    const buf = mem.memory.buffer;
    this.P = new Float32Array(buf, layout.P, model.nUsers * layout.kp);
    this.Q = new Float32Array(buf, layout.Q, model.nItems * layout.kp);
    this.bu = new Float32Array(buf, layout.bu, model.nUsers);
    this.bi = new Float32Array(buf, layout.bi, model.nItems);
    // the rating columns in block order, once: the kernel then reads them front to back
    gatherColumns(train, grid.rows, {
      users: new Int32Array(buf, layout.users, n),
      items: new Int32Array(buf, layout.items, n),
      ratings: new Float32Array(buf, layout.ratings, n),
    });
    const waits: Promise<void>[] = [];
    for (let t = 1; t < this.threads; t++) {
      const ctl = new Int32Array(new SharedArrayBuffer(FIRST_FREE * 4));
      const w = new LockstepWorker(new URL('./blocked-sgd-worker.js', import.meta.url), { ...this.data, ctl } as BlockedSgdWorkerData);
      this.workers.push(w);
      waits.push(w.ready());
    }
    this.started = Promise.all(waits).then(() => undefined);
  }

  /** Resolves once every worker runs. */
  ready(): Promise<void> {
    return this.started;
  }

  /** Copies the model's tables into the kernel memory (rows padded with zeros). */
  load(): void {
    if (!this.kernel) return;
    const m = this.model;
    const k = m.nFactors;
    const kp = this.data.layout.kp;
    copyRows(m.userFactors.value, k, this.P, kp, m.nUsers);
    copyRows(m.itemFactors.value, k, this.Q, kp, m.nItems);
    this.bu.set(m.userBias.value);
    this.bi.set(m.itemBias.value);
  }

  /** Copies the kernel memory's tables back into the model (for validation, saving, recommending). */
  store(): void {
    if (!this.kernel) return;
    const m = this.model;
    const k = m.nFactors;
    const kp = this.data.layout.kp;
    copyRows(this.P, kp, m.userFactors.value, k, m.nUsers);
    copyRows(this.Q, kp, m.itemFactors.value, k, m.nItems);
    m.userBias.value.set(this.bu);
    m.itemBias.value.set(this.bi);
  }

  /**
   * One epoch: the rounds of a fresh seeded schedule, round d at lr(pos0 + (pos1 - pos0) d / rounds).
   * Returns the epoch's sum of squared errors (summed in block order, so it too is the same on any threads).
   */
  epoch(rng: RandomState, lr: Schedule, pos0: number, pos1: number, reg: number): number {
    const rounds = blockRounds(SGD_BINS, rng);
    const d = this.data;
    const sizes = (b: number): number => d.blockStart[b + 1]! - d.blockStart[b]!;
    let sse = 0;
    for (let j = 0; j < rounds.length; j++) {
      // largest blocks first: the last block claimed is a small one, so threads finish together
      const round = Array.from(rounds[j]!).sort((a, b) => sizes(b) - sizes(a) || a - b);
      const rate = lr(pos0 + ((pos1 - pos0) * j) / rounds.length);
      if (this.kernel) {
        d.round.set(round);
        d.job[0] = rate;
        d.job[1] = reg;
        Atomics.store(d.claim, 0, 0);
        for (const w of this.workers) w.post(ROUND);
        trainClaimed(this.kernel, d);
        for (const w of this.workers) w.wait();
      } else {
        const m = this.model;
        for (const b of round) {
          d.blockSse[b] = funkSgd(
            m.userFactors.value, m.itemFactors.value, m.userBias.value, m.itemBias.value, m.nFactors, m.globalMean,
            this.train.users, this.train.items, this.train.ratings, this.jsRows!, d.blockStart[b]!, d.blockStart[b + 1]!, rate, reg,
          );
        }
      }
      for (const b of rounds[j]!) sse += d.blockSse[b]!;
    }
    return sse;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** Copies `rows` rows of width min(ka, kb) from a table of row stride ka into one of stride kb (padding stays as it is). */
function copyRows(from: Float32Array, ka: number, to: Float32Array, kb: number, rows: number): void {
  if (ka === kb) {
    to.set(from.subarray(0, rows * ka));
    return;
  }
  const k = Math.min(ka, kb);
  for (let r = 0; r < rows; r++) to.set(from.subarray(r * ka, r * ka + k), r * kb);
}
