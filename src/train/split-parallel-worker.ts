import { parentPort, workerData } from 'node:worker_threads';
import { bindParamMemory } from '../kernels/param-memory.js';
import { Grad, type Param } from '../models/model.js';
import { serveLockstep, type LockstepData } from '../core/lockstep-worker.js';
import { makeOptimizer } from './optimizers.js';
import { ACCUMULATE, COUNTS, FLUSH, FORWARD, FROM, STEP, TO, splitAccumulate, splitForward, type SplitWorkerData } from './split-parallel.js';

// The worker's half of SplitParallelOptimizer: rebuilds Params over the shared buffers, steps its rows of them on
// request, and runs its share of a split batch's forward and the item side of its backward.
const d = workerData as SplitWorkerData;
const params: Param[] = d.params.map((p) => {
  const grad = new Grad(0, p.cols);
  // the gradient lives in the main thread's shared buffers
  Object.assign(grad, { rows: p.rows, data: p.grad, touched: p.touched });
  // a table in a shared WebAssembly memory gets this thread's own kernel instance over it (same arithmetic as one
  // thread), with the second slot of row lists and scalars: the caller may step other rows of the same table meanwhile
  const kernel = p.memory ? bindParamMemory(p.memory, p.rows * p.cols, p.rows, p.base, 1).kernel : undefined;
  return { name: p.name, rows: p.rows, cols: p.cols, sparse: p.sparse, decay: p.decay, value: p.value, grad, kernel };
});
const opt = makeOptimizer(d.kind, params, d.options);
const pair = d.pair;
const ex = pair ? params[0]!.kernel!.exports : undefined;
serveLockstep(workerData as LockstepData, () => parentPort!.postMessage('ready'), (op) => {
  if (op === STEP) {
    for (let j = 0; j < params.length; j++) params[j]!.grad.count = d.ctl[COUNTS + j]!;
    opt.step(d.hyper[0]!, d.hyper[1]!);
  } else if (op === FLUSH) opt.flush();
  else if (op === FORWARD) splitForward(ex!, pair!, d.ctl[FROM]!, d.ctl[TO]!, d.hyper[2]!);
  else if (op === ACCUMULATE) splitAccumulate(ex!, pair!, d.ctl[TO]!, 1, d.byRows);
});
