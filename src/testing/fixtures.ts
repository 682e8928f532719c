import { spawnSync } from 'node:child_process';
import { RandomState } from '../core/random.js';
import { IdMap } from '../data/id-map.js';
import { selectRows, type ItemMeta, type Ratings } from '../data/ratings.js';

/**
 * A known-structure set (implicit's "checkerboard"): users 1..nUsers in two halves; the first half rates
 * movies 101..(100+nItems/2) 5 stars and the rest 1 star, the second half the opposite. Each user rates
 * a seeded `density` share of the movies. Movies of the first half are "Comedy", the rest "Drama".
 */
export function checkerboard(nUsers = 40, nItems = 30, density = 0.6, seed = 1): { ratings: Ratings; items: Map<number, ItemMeta> } {
  const rng = new RandomState(seed);
  const userIds = new IdMap();
  const itemIds = new IdMap();
  const users: number[] = [];
  const itemsCol: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (rng.random() >= density) continue;
      const likes = u < nUsers / 2 === i < nItems / 2;
      users.push(userIds.addInt(u + 1));
      itemsCol.push(itemIds.addInt(101 + i));
      values.push(likes ? 5 : 1);
    }
  }
  const items = new Map<number, ItemMeta>();
  for (let i = 0; i < nItems; i++) {
    items.set(101 + i, { title: `Movie ${101 + i} (${1990 + i})`, genres: [i < nItems / 2 ? 'Comedy' : 'Drama'], year: 1990 + i });
  }
  return {
    ratings: { users: Int32Array.from(users), items: Int32Array.from(itemsCol), ratings: Float32Array.from(values), userIds, itemIds },
    items,
  };
}

/**
 * Implicit checkerboard: keep only the 5-star rows of `checkerboard`, so users 1..20 watched only movies
 * 101..115 (Comedy) and users 21..40 only 116..130 (Drama). A model of who watched what must recommend a
 * first-half user first-half movies.
 */
export function implicitBoard(): { ratings: Ratings; items: Map<number, ItemMeta> } {
  const { ratings, items } = checkerboard(40, 30, 0.6, 1);
  const rows: number[] = [];
  for (let r = 0; r < ratings.ratings.length; r++) if (ratings.ratings[r] === 5) rows.push(r);
  return { ratings: selectRows(ratings, Int32Array.from(rows)), items };
}

/** Result of running the built CLI. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

/** Runs the built `collab` CLI (dist/cli/main.js) with arguments and extra environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const main = new URL('../cli/main.js', import.meta.url);
  const r = spawnSync(process.execPath, [main.pathname, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const last = r.stdout.trim().split('\n').at(-1);
  let json: Record<string, unknown> | undefined;
  try {
    json = last ? (JSON.parse(last) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** The shared MovieLens folder from $COLLAB_DATA_DIR, or undefined (tests that need it skip). */
export function sharedDataDir(): string | undefined {
  return process.env.COLLAB_DATA_DIR || undefined;
}

/**
 * Gradient check of models whose batch draws randomness (negatives, dropout): for every table j of
 * `params` (the gradients of one trainBatch, touched rows listed), the worst relative error between the
 * analytic gradient and central finite differences over `samples` random entries of its touched rows.
 * lossAt(j, entry, delta) must rebuild the model from the same seed (so it draws the same), add delta to
 * one entry of table j, and return [the batch objective, the delta actually stored (float32)].
 */
export function worstGradientErrors(
  params: readonly { name: string; cols: number; grad: { data: Float32Array; touched: Int32Array; count: number } }[],
  lossAt: (table: number, entry: number, delta: number) => [number, number],
  rng: RandomState,
  samples = 6,
  h = 1e-3,
): Map<string, number> {
  const worst = new Map<string, number>();
  params.forEach((p, j) => {
    const entries: number[] = [];
    for (let t = 0; t < p.grad.count; t++) for (let f = 0; f < p.cols; f++) entries.push(p.grad.touched[t]! * p.cols + f);
    if (entries.length === 0) throw new Error(`${p.name} has no touched row`);
    let rel = 0;
    for (let c = 0; c < samples; c++) {
      const e = entries[rng.interval(entries.length - 1)]!;
      const [lp, dp] = lossAt(j, e, h);
      const [lm, dm] = lossAt(j, e, -h);
      const numeric = (lp - lm) / (dp - dm);
      const analytic = p.grad.data[e]!;
      rel = Math.max(rel, Math.abs(numeric - analytic) / Math.max(Math.abs(numeric), Math.abs(analytic), 1e-3));
    }
    worst.set(p.name, rel);
  });
  return worst;
}
