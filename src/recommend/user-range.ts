import { CollabError } from '../core/errors.js';
import type { UserRange } from './types.js';

/** The dense users of a range, every user when none is given; throws when it does not fit 0..nUsers. */
export function checkRange(range: UserRange | undefined, nUsers: number): UserRange {
  if (range === undefined) return { from: 0, to: nUsers };
  const { from, to } = range;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > nUsers) {
    throw new CollabError('INVALID_OPTION', `user range ${from}..${to} does not fit the model's ${nUsers} users`, { field: 'range' });
  }
  return range;
}
