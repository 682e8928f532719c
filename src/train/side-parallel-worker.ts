import { parentPort, workerData } from 'node:worker_threads';
import { bindParamMemory } from '../kernels/param-memory.js';
import { Grad, type Param } from '../models/model.js';
import { serveLockstep, type LockstepData } from '../core/lockstep-worker.js';
import { makeOptimizer } from './optimizers.js';
import { COUNTS, FLUSH, STEP, type SideWorkerData } from './side-parallel.js';

// The item-side half of SideParallelOptimizer: rebuilds Params over the shared buffers and steps them on request.
const d = workerData as SideWorkerData;
const params: Param[] = d.params.map((p) => {
  const grad = new Grad(0, p.cols);
  // the gradient lives in the main thread's shared buffers
  Object.assign(grad, { rows: p.rows, data: p.grad, touched: p.touched });
  // a table in a shared WebAssembly memory gets this thread's own kernel instance over it (same arithmetic as one thread)
  const kernel = p.memory ? bindParamMemory(p.memory, p.rows * p.cols, p.rows, p.base).kernel : undefined;
  return { name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: p.value, grad, kernel };
});
const opt = makeOptimizer(d.kind, params, d.options);
serveLockstep(workerData as LockstepData, () => parentPort!.postMessage('ready'), (op) => {
  if (op === STEP) {
    for (let j = 0; j < params.length; j++) params[j]!.grad.count = d.ctl[COUNTS + j]!;
    opt.step(d.hyper[0]!, d.hyper[1]!);
  } else if (op === FLUSH) opt.flush();
});
