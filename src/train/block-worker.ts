import { parentPort, workerData } from 'node:worker_threads';
import { bindParamMemory } from '../kernels/param-memory.js';
import { pairKernel, pairScale, runPairBatch } from '../models/factor-kernels.js';
import { Grad, type Param } from '../models/model.js';
import { serveLockstep, type LockstepData } from '../core/lockstep-worker.js';
import { AdamW } from './optimizers.js';
import { FIRST, LAST, MINE, ROUND, type BlockWorkerData } from './block-parallel.js';

// The second thread of BlockParallel: the model's tables bound with this thread's scratch slot (1), its own
// gradients' touched lists, and an AdamW that adopts the main thread's state and rows' last steps.
const d = workerData as BlockWorkerData;
const params: Param[] = d.params.map((p) => {
  const mem = bindParamMemory(p.memory, p.rows * p.cols, p.rows, p.base, 1);
  return { name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: mem.value, grad: new Grad(p.rows, p.cols, false, mem.grad), kernel: mem.kernel };
});
const pair = pairKernel(params[0]!, params[1]!, d.link ? [params[2]!, params[3]!] : undefined)!;
const opt = new AdamW(params, d.optimizer);
serveLockstep(workerData as LockstepData, () => parentPort!.postMessage('ready'), (op) => {
  if (op !== ROUND) return;
  const first = d.ctl[FIRST]!;
  const mine = d.ctl[MINE]!;
  const last = d.ctl[LAST]!;
  // every step of the round enters the schedule, the other thread's included: a row catches up over them all
  const base = opt.steps;
  for (let j = 0; j < last - first; j++) opt.record(d.hyper[2 * j]!, d.hyper[2 * j + 1]!);
  for (let b = mine; b < last; b++) {
    const start = d.ends[b]!;
    const end = d.ends[b + 1]!;
    d.sse[b] = runPairBatch(pair, d.k, params, d.data, d.order, start, end, pairScale(d.link, end - start), d.link);
    opt.stepAt(base + 1 + b - first);
  }
});
