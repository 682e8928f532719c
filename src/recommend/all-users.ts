import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { requireInt } from '../core/errors.js';
import { startWorker } from '../core/worker-argv.js';
import type { RawId } from '../data/id-map.js';
import { openAtomicWriter } from '../core/atomic.js';
import { ranksByHistory, type RecommendOptions, type Recommender, type ScoredItem } from './types.js';

/** A recommender that can list every known user's top-N in one pass. */
export type AllUsersRecommender = Recommender & Required<Pick<Recommender, 'recommendAllUsers'>>;

/** The header of the file {@link writeAllRecommendations} writes. */
export const ALL_RECOMMENDATIONS_HEADER = 'userId,rank,movieId,score';

/** Bytes gathered before each write to the temp file. */
const CHUNK = 1 << 20;

/** Below this many user × movie scores, a worker (it loads the model file again) costs an EASE or iALS model more than it saves. */
const THREADED_SCORES = 2e7;

/** A raw id as a CSV field: quoted when it holds a comma, a quote or a line break. */
function csvField(id: RawId): string {
  if (typeof id === 'number') return String(id);
  const s = String(id);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One user's rows of the file: `userId,rank,movieId,score`, rank from 1. */
export function recommendationRows(userId: RawId, items: ScoredItem[]): string {
  const u = csvField(userId);
  let rows = '';
  for (let t = 0; t < items.length; t++) rows += `${u},${t + 1},${csvField(items[t]!.itemId)},${items[t]!.score}\n`;
  return rows;
}

/** Options of {@link writeAllRecommendations}. */
export interface WriteAllOptions {
  /** Called after each user with the users done (all threads) and the total. Default: none. */
  onProgress?: (done: number, total: number) => void;
  /** The model file `rec` was loaded from (with default options): a worker thread loads it too and takes the second half of the users. Default: none (one thread). */
  modelPath?: string;
  /**
   * Threads, 1 or 2 (2 needs modelPath). Default: 2 for an EASE or iALS model when modelPath is given, two
   * cores exist and users × movies ≥ 20 million; else 1. A rating model's users are listed in tens of
   * microseconds each whatever the catalogue's size (PrunedTopN), while the worker must load the model file
   * again (0.3 s for ml-latest-small, against 16 ms for the whole job warm and ~60 ms in a fresh process;
   * `npm run bench:topk` measures them).
   */
  threads?: number;
}

/** What the worker of {@link writeAllRecommendations} is started with. */
export interface AllUsersWorkerData {
  modelPath: string;
  options: RecommendOptions;
  from: number;
  to: number;
  /** [users done] */
  progress: Int32Array;
}

/**
 * Writes every known user's top-N (`options` as for recommendForUser) to a CSV file with the header
 * `userId,rank,movieId,score`, one row per recommendation, rank from 1, users in the model's order. The file is
 * written atomically: rows go to a temp file beside `path`, renamed over it at the end, so a failure leaves
 * nothing half-written under `path`. With two threads a worker lists the second half of the users.
 */
export async function writeAllRecommendations(
  rec: AllUsersRecommender,
  path: string,
  options: RecommendOptions,
  write: WriteAllOptions = {},
): Promise<{ users: number; rows: number }> {
  const total = rec.info.nUsers;
  const big = ranksByHistory(rec.info) && total * rec.info.nItems >= THREADED_SCORES && availableParallelism() >= 2;
  const threads = requireInt('threads', write.threads ?? (write.modelPath !== undefined && big ? 2 : 1), 1, write.modelPath === undefined ? 1 : 2);
  let mid = threads === 2 ? Math.ceil(total / 2) : total;
  const progress = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker | undefined;
  let second: Promise<string> | undefined;
  if (mid < total) {
    const data: AllUsersWorkerData = { modelPath: write.modelPath!, options, from: mid, to: total, progress };
    worker = startWorker(new URL('./all-users-worker.js', import.meta.url), data);
    // a process that cannot start workers lists every user itself
    if (worker === undefined) mid = total;
  }
  if (worker !== undefined) {
    const w = worker;
    second = new Promise<string>((resolve, reject) => {
      w.once('message', (rows: string) => resolve(rows));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the recommendation worker stopped (exit code ${code}) before it had listed its users`)));
    });
    // a failure of this thread must not leave the worker's promise unobserved
    second.catch(() => {});
  }
  const out = openAtomicWriter(path);
  try {
    let buf = `${ALL_RECOMMENDATIONS_HEADER}\n`;
    let users = 0;
    let rows = 0;
    rec.recommendAllUsers(
      options,
      (userId: RawId, items: ScoredItem[]) => {
        buf += recommendationRows(userId, items);
        rows += items.length;
        users++;
        if (buf.length >= CHUNK) {
          out.write(buf);
          buf = '';
        }
        write.onProgress?.(users + Atomics.load(progress, 0), total);
      },
      { from: 0, to: mid },
    );
    out.write(buf);
    if (second !== undefined) {
      const rest = await second;
      out.write(rest);
      users += total - mid;
      for (let at = rest.indexOf('\n'); at >= 0; at = rest.indexOf('\n', at + 1)) rows++;
      write.onProgress?.(total, total);
    }
    out.commit();
    return { users, rows };
  } catch (err) {
    out.abort();
    throw err;
  } finally {
    if (worker !== undefined) void worker.terminate();
  }
}
