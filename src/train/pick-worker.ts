import { parentPort, workerData } from 'node:worker_threads';
import { bindParamMemory } from '../kernels/param-memory.js';
import { toCsr } from '../models/feature-csr.js';
import { Grad, type Param } from '../models/model.js';
import { PickHead } from '../models/pick-head.js';
import { serveLockstep, type LockstepData } from '../core/lockstep-worker.js';
import { makeOptimizer } from './optimizers.js';
import { BATCH, END, FLUSH, START, type PickWorkerData } from './pick-parallel.js';

// The pick head's half of a hybrid's training (see PickParallel): the head rebuilt over the model's shared
// tables, with its own gradients and AdamW, stepping on request.
const d = workerData as PickWorkerData;
const params: Param[] = d.params.map((p) => {
  const mem = bindParamMemory(p.memory, p.rows * p.cols, p.rows, p.base);
  return { name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: mem.value, grad: new Grad(p.rows, p.cols, false, mem.grad), kernel: mem.kernel };
});
const head = new PickHead(d.nUsers, d.nItems, toCsr(d.userFeatures, d.nUsers, 'userFeatures'), toCsr(d.itemFeatures, d.nItems, 'itemFeatures'), d.options, d.seed, params);
const opt = makeOptimizer(d.optimizer.kind, params, d.optimizer.options);
const data = { users: d.users, items: d.items };
serveLockstep(workerData as LockstepData, () => parentPort!.postMessage('ready'), (op) => {
  if (op === BATCH) {
    head.trainBatch(data, d.order, d.ctl[START]!, d.ctl[END]!);
    opt.step(d.hyper[0]!, d.hyper[1]!);
  } else if (op === FLUSH) opt.flush();
});
