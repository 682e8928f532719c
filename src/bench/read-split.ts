import { readFileSync } from 'node:fs';
import { CollabError } from '../core/errors.js';
import { IdMap } from '../data/id-map.js';
import type { Ratings } from '../data/ratings.js';

/**
 * A small stand-in reader for the training benchmarks (the data layer's loaders replace it in the CLI):
 * `user,item,rating[,timestamp]` CSV with an optional header, ml-100k's tab-separated u.data / u1.base, or
 * `::`-separated .dat. Integer ids only. Train and valid files passed with the same IdMaps share dense indices.
 */
export function readRatingsFile(path: string, userIds = new IdMap(), itemIds = new IdMap()): Ratings {
  const text = readFileSync(path, 'latin1');
  const lines = text.split('\n');
  const users = new Int32Array(lines.length);
  const items = new Int32Array(lines.length);
  const ratings = new Float32Array(lines.length);
  let n = 0;
  for (let j = 0; j < lines.length; j++) {
    const line = lines[j]!.trim();
    if (line === '') continue;
    const f = line.includes('::') ? line.split('::') : line.split(/[,\t]/);
    const u = Number(f[0]);
    const i = Number(f[1]);
    const r = Number(f[2]);
    if (!Number.isInteger(u) || !Number.isInteger(i) || !Number.isFinite(r)) {
      if (n === 0 && j === 0) continue; // header
      throw new CollabError('BAD_ROW', `expected "user,item,rating" with integer ids, got "${line.slice(0, 60)}"; fix or remove the row`, { file: path, line: j + 1 });
    }
    users[n] = userIds.addInt(u);
    items[n] = itemIds.addInt(i);
    ratings[n] = r;
    n++;
  }
  return { users: users.slice(0, n), items: items.slice(0, n), ratings: ratings.slice(0, n), userIds, itemIds };
}

/** Reads a train file and a valid file into Ratings sharing one pair of IdMaps. */
export function readSplit(trainPath: string, validPath?: string): { train: Ratings; valid: Ratings | undefined } {
  const train = readRatingsFile(trainPath);
  const valid = validPath ? readRatingsFile(validPath, train.userIds, train.itemIds) : undefined;
  return { train, valid };
}
