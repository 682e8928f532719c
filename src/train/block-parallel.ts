import type { WasmMemory } from '../kernels/param-memory.js';
import type { PairData, PairLink } from '../models/factor-kernels.js';
import type { Param } from '../models/model.js';
import type { OptimizerOptions } from './optimizers.js';
import { FIRST_FREE, LockstepWorker } from '../core/lockstep-worker.js';

/** The job, and its words after the lockstep ones: the round's batches [FIRST, LAST), the worker's from MINE. */
export const ROUND = 1;
export const FIRST = FIRST_FREE;
export const MINE = FIRST_FREE + 1;
export const LAST = FIRST_FREE + 2;

/** What the worker receives: the model's tables (shared memory), its AdamW settings and the training columns. */
export interface BlockWorkerData {
  k: number;
  /** The dotbias link, absent for the plain dot product. */
  link: PairLink | undefined;
  /** [P, Q] or [P, Q, bu, bi]. */
  params: { name: string; rows: number; cols: number; sparse: boolean; decay: boolean; memory: WasmMemory; base: number }[];
  optimizer: OptimizerOptions;
  data: PairData;
  order: Int32Array;
  /** Batch boundaries of the epoch in `order`. */
  ends: Int32Array;
  /** Each batch's sum of squared errors, written by the thread that trained it. */
  sse: Float64Array;
  /** (lr, momentum) of each step of the round, in order. */
  hyper: Float64Array;
  ctl: Int32Array;
}

/**
 * Blocked training on two threads (dot and dotbias with AdamW). Each round of the block schedule (data/blocks)
 * holds blocks that share no user and no movie; the learner gives the round's first blocks to this thread and
 * the rest to a worker, and numbers the steps as if one thread trained them in that order. Both threads keep
 * the whole step schedule, step their own rows with AdamW's lazy catch-up over every step they skipped, and
 * share the tables, the AdamW state and each row's last step, so two threads give the one-thread blocked result
 * bit for bit.
 */
export class BlockParallel {
  private readonly worker: LockstepWorker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer((LAST + 1) * 4));

  constructor(
    k: number,
    link: PairLink | undefined,
    tables: readonly Param[],
    optimizer: OptimizerOptions,
    data: PairData,
    order: Int32Array,
    ends: Int32Array,
    readonly sse: Float64Array,
    readonly hyper: Float64Array,
  ) {
    const params = tables.map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, memory: p.kernel!.memory, base: p.kernel!.valueOffset }));
    const worker: BlockWorkerData = { k, link, params, optimizer, data, order, ends, sse, hyper, ctl: this.ctl };
    this.worker = new LockstepWorker(new URL('./block-worker.js', import.meta.url), worker);
  }

  /** Resolves once the worker runs. */
  ready(): Promise<void> {
    return this.worker.ready();
  }

  /** Hands the worker batches [mine, last) of the round [first, last) whose steps `hyper` holds (returns at once). */
  begin(first: number, mine: number, last: number): void {
    this.ctl[FIRST] = first;
    this.ctl[MINE] = mine;
    this.ctl[LAST] = last;
    this.worker.post(ROUND);
  }

  /** Waits for the worker's share of the round. */
  end(): void {
    this.worker.wait();
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.end();
    await this.worker.close();
  }
}

/** Whether tables can train block-parallel: all in one shared WebAssembly memory (the runtime has wasm SIMD and shared memory). */
export function blockParallelFits(tables: readonly Param[]): boolean {
  const memory = tables[0]?.kernel?.memory;
  return memory !== undefined && memory.buffer instanceof SharedArrayBuffer && tables.every((p) => p.sparse && p.kernel?.memory === memory);
}
