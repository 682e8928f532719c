import { parentPort, workerData } from 'node:worker_threads';
import { bindParamMemory } from '../kernels/param-memory.js';
import { toCsr } from '../models/feature-csr.js';
import { Grad, type Param } from '../models/model.js';
import { PickHead } from '../models/pick-head.js';
import { makeOptimizer } from './optimizers.js';
import type { PickWorkerData } from './pick-parallel.js';
import { awaitValue } from './side-parallel.js';

// The pick head's half of a hybrid's training (see PickParallel): the head rebuilt over the model's shared
// tables, with its own gradients and AdamW, stepping on request.
const d = workerData as PickWorkerData;
const params: Param[] = d.params.map((p) => {
  const mem = bindParamMemory(p.memory, p.rows * p.cols, p.base);
  return { name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: mem.value, grad: new Grad(p.rows, p.cols, false, mem.grad), kernel: mem.kernel };
});
const head = new PickHead(d.nUsers, d.nItems, toCsr(d.userFeatures, d.nUsers, 'userFeatures'), toCsr(d.itemFeatures, d.nItems, 'itemFeatures'), d.options, d.seed, params);
const opt = makeOptimizer('adam', params, d.optimizer);
const data = { users: d.users, items: d.items };
const ctl = d.ctl;
parentPort!.postMessage('ready');
for (let gen = 1; ; gen++) {
  awaitValue(ctl, 0, gen);
  const op = Atomics.load(ctl, 2);
  if (op === 3) break;
  if (op === 1) {
    d.hyper[2] = head.trainBatch(data, d.order, ctl[3]!, ctl[4]!);
    opt.step(d.hyper[0]!, d.hyper[1]!);
  } else if (op === 2) opt.flush();
  Atomics.store(ctl, 1, gen);
  Atomics.notify(ctl, 1);
}
