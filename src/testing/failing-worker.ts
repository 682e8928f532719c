import { parentPort, workerData } from 'node:worker_threads';
import { serveLockstep, type LockstepData } from '../core/lockstep-worker.js';

// A lockstep worker for the tests: job 1 throws, job 2 does nothing.
serveLockstep(workerData as LockstepData, () => parentPort!.postMessage('ready'), (op) => {
  if (op === 1) throw new Error('the kernel ran out of rows');
});
