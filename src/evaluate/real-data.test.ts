import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdMap } from '../data/id-map.js';
import { rmse } from './rating-metrics.js';
import { rankingProtocol, itemsOfUser } from './protocol.js';
import { fitBiasBaseline, predictBaseline, predictGlobalMean, popularityScores } from './baselines.js';
import { rankingReport } from './ranking-metrics.js';
import { topKForUser } from '../recommend/top-k.js';

const dataDir = process.env.COLLAB_DATA_DIR;

/** Minimal reader of the split files (userId,movieId,rating,timestamp with a header), sharing id maps. */
function readSplit(file: string, userIds: IdMap, itemIds: IdMap): { users: Int32Array; items: Int32Array; ratings: Float32Array } {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).slice(1).filter((l) => l.length > 0);
  const users = new Int32Array(lines.length);
  const items = new Int32Array(lines.length);
  const ratings = new Float32Array(lines.length);
  lines.forEach((line, r) => {
    const [u, i, v] = line.split(',');
    users[r] = userIds.addInt(Number(u));
    items[r] = itemIds.addInt(Number(i));
    ratings[r] = Number(v);
  });
  return { users, items, ratings };
}

test('ml-latest-small 80/20 split: bias baseline beats the global mean; popularity ranking figures', { skip: dataDir === undefined ? 'COLLAB_DATA_DIR is not set' : false }, (t) => {
  const split = join(dataDir!, 'splits', 'ml-latest-small-seed42');
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const train = readSplit(join(split, 'train.csv'), userIds, itemIds);
  const valid = readSplit(join(split, 'valid.csv'), userIds, itemIds);
  const nUsers = userIds.size;
  const nItems = itemIds.size;
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
