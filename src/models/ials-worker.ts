import { parentPort, workerData } from 'node:worker_threads';
import { serveLockstep, type LockstepData } from '../core/lockstep-worker.js';
import { addGramian, cgScratch, solveRows } from './ials-kernel.js';
import { GRAM_X, GRAM_Y, ITEMS, USERS, W_END, W_START, type IalsWorkerData } from './ials-worker-data.js';

// The second thread of fitIals: the same kernels over its share of the rows of the shared tables.
const d = workerData as IalsWorkerData;
const scratch = cgScratch(d.k);
serveLockstep(workerData as LockstepData, () => parentPort!.postMessage('ready'), (op) => {
  const start = d.ctl[W_START]!;
  const end = d.ctl[W_END]!;
  if (op === USERS) solveRows(d.X, d.Y, d.G, d.userRows, d.nItems, d.k, d.params, start, end, scratch);
  else if (op === ITEMS) solveRows(d.Y, d.X, d.G, d.itemRows, d.nUsers, d.k, d.params, start, end, scratch);
  else if (op === GRAM_X) addGramian(d.X, d.k, start, end, d.G2);
  else if (op === GRAM_Y) addGramian(d.Y, d.k, start, end, d.G2);
});
