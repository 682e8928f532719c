// The second thread of writeAllRecommendations: loads the model file, lists its users' rows, posts them back.
import { parentPort, workerData } from 'node:worker_threads';
import { recommendationRows, type AllUsersWorkerData } from './all-users.js';
import { loadRecommender } from './load.js';

const data = workerData as AllUsersWorkerData;
const rec = loadRecommender(data.modelPath);
const chunks: string[] = [];
rec.recommendAllUsers(
  data.options,
  (userId, items) => {
    chunks.push(recommendationRows(userId, items));
    Atomics.add(data.progress, 0, 1);
  },
  { from: data.from, to: data.to },
);
parentPort!.postMessage(chunks.join(''));
