import { parentPort, workerData } from 'node:worker_threads';
import { serveBlockedSgd, type BlockedSgdWorkerData } from './blocked-sgd.js';

// A blocked-SGD worker: binds its own kernel instance over the shared memory and trains its share of each round.
serveBlockedSgd(workerData as BlockedSgdWorkerData, () => parentPort!.postMessage('ready'));
