import { parentPort, workerData } from 'node:worker_threads';
import { funkSgd } from '../models/mf.js';
import type { HogwildWorkerData } from './hogwild.js';

// A Hogwild worker: sleeps on the generation counter, runs its slice of each segment, reports its SSE.
const d = workerData as HogwildWorkerData;
const { ctl, job } = d;
const j = d.id * 5;
let gen = Atomics.load(ctl, 0);
parentPort!.postMessage('ready');
for (;;) {
  Atomics.wait(ctl, 0, gen);
  gen = Atomics.load(ctl, 0);
  if (Atomics.load(ctl, 2) === 1) break;
  job[j + 4] = funkSgd(d.P, d.Q, d.bu, d.bi, d.k, d.mu, d.users, d.items, d.ratings, d.order, job[j]!, job[j + 1]!, job[j + 2]!, job[j + 3]!);
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
