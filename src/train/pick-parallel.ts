import type { WasmMemory } from '../kernels/param-memory.js';
import type { HybridModel } from '../models/hybrid.js';
import type { PickHeadOptions } from '../models/pick-head.js';
import type { FeatureTable } from '../models/feature-csr.js';
import type { Param } from '../models/model.js';
import type { Optimizer, OptimizerKind, OptimizerOptions } from './optimizers.js';
import { FIRST_FREE, LockstepWorker } from '../core/lockstep-worker.js';

/** Jobs, and the job words after the lockstep ones: the batch's rows order[START..END). */
export const BATCH = 1;
export const FLUSH = 2;
export const START = FIRST_FREE;
export const END = FIRST_FREE + 1;

/** What the worker receives: the head's shape, its tables' shared memories, the training columns and the row order. */
export interface PickWorkerData {
  nUsers: number;
  nItems: number;
  userFeatures: FeatureTable;
  itemFeatures: FeatureTable;
  options: PickHeadOptions;
  seed: number;
  params: { name: string; rows: number; cols: number; sparse: boolean; decay: boolean; memory: WasmMemory; base: number }[];
  optimizer: { kind: OptimizerKind; options: OptimizerOptions };
  users: Int32Array;
  items: Int32Array;
  order: Int32Array;
  ctl: Int32Array;
  /** lr and momentum of the job. */
  hyper: Float64Array;
}

/**
 * The hybrid's pick head trained on a second thread, in step with the learner: for every batch the worker
 * runs the head's forward, backward and AdamW step on the same rows, lr and momentum while the caller does
 * the rating head's. The two heads share no table, and the worker's head draws the same negatives and
 * dropout as the model's own would, so two threads give one thread's result bit for bit.
 */
export class PickParallel {
  private readonly worker: LockstepWorker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer((END + 1) * 4));
  private readonly hyper = new Float64Array(new SharedArrayBuffer(2 * 8));

  /** `seed` is the model's: the worker rebuilds the head as the model built it (seed + 2). */
  constructor(model: HybridModel, users: Int32Array, items: Int32Array, order: Int32Array, optimizer: { kind: OptimizerKind; options: OptimizerOptions }, seed: number) {
    const pick = model.pick!;
    const config = model.config();
    const params = pick.params.map((p: Param) => ({ name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, memory: p.kernel!.memory, base: p.kernel!.valueOffset }));
    const data: PickWorkerData = {
      nUsers: model.nUsers,
      nItems: model.nItems,
      userFeatures: config.userFeatures as FeatureTable,
      itemFeatures: config.itemFeatures as FeatureTable,
      options: pick.options,
      seed: seed + 2,
      params,
      optimizer,
      users,
      items,
      order,
      ctl: this.ctl,
      hyper: this.hyper,
    };
    this.worker = new LockstepWorker(new URL('./pick-worker.js', import.meta.url), data);
  }

  /** Resolves once the worker runs. */
  ready(): Promise<void> {
    return this.worker.ready();
  }

  /** Starts the head's step on rows order[start..end) (returns at once; {@link end} waits for it). */
  begin(start: number, end: number, lr: number, mom: number): void {
    this.hyper[0] = lr;
    this.hyper[1] = mom;
    this.ctl[START] = start;
    this.ctl[END] = end;
    this.worker.post(BATCH);
  }

  /** Waits for the step {@link begin} started. */
  end(): void {
    this.worker.wait();
  }

  /** Brings the head's lazily updated rows up to date (before prediction or saving). */
  flush(): void {
    this.end();
    this.worker.post(FLUSH);
    this.worker.wait();
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.end();
    await this.worker.close();
  }
}

/**
 * Whether a hybrid's pick head can train on a worker: its tables must live in shared WebAssembly memories
 * (the runtime has wasm SIMD and shared memory, and no table passes 4 GiB); else it trains in the model.
 */
export function pickCanRunElsewhere(model: HybridModel): boolean {
  return model.pick !== undefined && model.pick.params.every((p) => p.kernel !== undefined && p.value.buffer instanceof SharedArrayBuffer);
}

/** The learner's optimizer over the rating head, whose flush also flushes the pick head's worker. */
export function withPickFlush(local: Optimizer, pick: PickParallel): Optimizer {
  return {
    kind: local.kind,
    get steps() {
      return local.steps;
    },
    step: (lr, mom) => local.step(lr, mom),
    flush: () => {
      local.flush();
      pick.flush();
    },
  };
}
