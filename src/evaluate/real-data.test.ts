import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRatingsFile } from '../data/read-delimited.js';
import { rmse } from './rating-metrics.js';
import { rankingProtocol } from './protocol.js';
import { itemsOfUser } from '../data/user-items.js';
import { fitBiasBaseline, predictBaseline, predictGlobalMean, popularityScores } from '../models/baselines.js';
import { rankingReport } from './ranking-metrics.js';
import { topKForUser } from '../maths/top-k.js';

const dataDir = process.env.COLLAB_DATA_DIR;

test('ml-latest-small 80/20 split: bias baseline beats the global mean; popularity ranking figures', { skip: dataDir === undefined ? 'COLLAB_DATA_DIR is not set' : false }, (t) => {
  const split = join(dataDir!, 'splits', 'ml-latest-small-seed42');
  const train = readRatingsFile(join(split, 'train.csv')).ratings;
  const valid = readRatingsFile(join(split, 'valid.csv'), { userIds: train.userIds, itemIds: train.itemIds }).ratings;
  const nUsers = train.userIds.size;
  const nItems = train.itemIds.size;
  assert.equal(nUsers, 610);

  const base = fitBiasBaseline(train, nUsers, nItems);
  const pred = new Float32Array(valid.ratings.length);
  predictBaseline(base, valid.users, valid.items, pred);
  const rmseBias = rmse(pred, valid.ratings);
  const rmseMean = rmse(predictGlobalMean(base.mu, valid.ratings.length), valid.ratings);
  t.diagnostic(`RMSE global mean ${rmseMean.toFixed(4)}, bias baseline ${rmseBias.toFixed(4)}`);
  assert.ok(rmseMean > 1.0 && rmseMean < 1.1, `global mean RMSE ${rmseMean}`);
  assert.ok(rmseBias < 0.9 && rmseBias < rmseMean - 0.1, `bias RMSE ${rmseBias}`);

  const protocol = rankingProtocol(train, valid, { nUsers, nItems });
  const pop = popularityScores(train.items, nItems);
  const recs: (Int32Array | undefined)[] = new Array(nUsers).fill(undefined);
  for (const u of protocol.users) recs[u] = topKForUser(pop, 10, itemsOfUser(protocol.trainItems, u)).items;
  const r = rankingReport(recs, protocol.relevant, 10, nItems);
  t.diagnostic(`popularity@10 over ${r.users} users: ${JSON.stringify(r)}`);
  // popularity is a weak but far-from-random recommender: random picks would give precision ≈ 0.002
  assert.ok(r.precision > 0.05 && r.precision < 0.5, `precision ${r.precision}`);
  assert.ok(r.ndcg > 0 && r.ndcg < 1 && r.coverage < 0.05);
  // none of a user's recommendations was rated by that user in training
  for (const u of protocol.users) {
    const rated = new Set(itemsOfUser(protocol.trainItems, u));
    for (const i of recs[u]!) assert.ok(!rated.has(i));
  }
});
