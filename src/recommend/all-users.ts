import type { RawId } from '../data/id-map.js';
import { openAtomicWriter } from '../io/atomic.js';
import type { RecommendOptions, Recommender, ScoredItem } from './types.js';

/** A recommender that can list every known user's top-N in one pass. */
export type AllUsersRecommender = Recommender & Required<Pick<Recommender, 'recommendAllUsers'>>;

/** The header of the file {@link writeAllRecommendations} writes. */
export const ALL_RECOMMENDATIONS_HEADER = 'userId,rank,movieId,score';

/** Bytes gathered before each write to the temp file. */
const CHUNK = 1 << 20;

/** A raw id as a CSV field: quoted when it holds a comma, a quote or a line break. */
function csvField(id: RawId): string {
  const s = String(id);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes every known user's top-N (`options` as for recommendForUser) to a CSV file with the header
 * `userId,rank,movieId,score`, one row per recommendation, rank from 1, users in the model's order. The file is
 * written atomically: rows go to a temp file beside `path`, renamed over it at the end, so a failure leaves
 * nothing half-written under `path`. `onProgress(done, total)` is called after each user.
 */
export function writeAllRecommendations(
  rec: AllUsersRecommender,
  path: string,
  options: RecommendOptions,
  onProgress?: (done: number, total: number) => void,
): { users: number; rows: number } {
  const out = openAtomicWriter(path);
  try {
    let buf = `${ALL_RECOMMENDATIONS_HEADER}\n`;
    let users = 0;
    let rows = 0;
    const total = rec.info.nUsers;
    rec.recommendAllUsers(options, (userId: RawId, items: ScoredItem[]) => {
      const u = csvField(userId);
      for (let t = 0; t < items.length; t++) buf += `${u},${t + 1},${csvField(items[t]!.itemId)},${items[t]!.score}\n`;
      rows += items.length;
      users++;
      if (buf.length >= CHUNK) {
        out.write(buf);
        buf = '';
      }
      onProgress?.(users, total);
    });
    out.write(buf);
    out.commit();
    return { users, rows };
  } catch (err) {
    out.abort();
    throw err;
  }
}
