import { readRatingsFile } from '../data/read-delimited.js';
import type { Ratings } from '../data/ratings.js';

/** Reads a train file and a valid file (any layout the data layer reads) into Ratings sharing one pair of IdMaps. */
export function readSplit(trainPath: string, validPath?: string): { train: Ratings; valid: Ratings | undefined } {
  const train = readRatingsFile(trainPath).ratings;
  const valid = validPath ? readRatingsFile(validPath, { userIds: train.userIds, itemIds: train.itemIds }).ratings : undefined;
  return { train, valid };
}
