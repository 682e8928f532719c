// A worker thread of DenseSpdInverse: it binds its own kernel instance to the shared memory and runs tasks.
import { workerData } from 'node:worker_threads';
import { serveDenseWorker, type DenseWorkerData } from './dense.js';

serveDenseWorker(workerData as DenseWorkerData);
