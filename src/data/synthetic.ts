import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import { openAtomicWriter } from '../core/atomic.js';
import { IdMap } from './id-map.js';
import type { Ratings } from './ratings.js';

/** Shape of a synthetic MovieLens-like ratings file. */
export interface SyntheticOptions {
  /** Number of ratings to write (required). */
  rows: number;
  /** Number of users; default rows / 154 (ml-25m's ratings per user), at least 1. */
  users?: number;
  /** Number of items; default rows / 420 (ml-25m's ratings per item), raised so users × items ≥ 2 × rows. */
  items?: number;
  /** Rank of the latent structure; default 8. */
  factors?: number;
  /** Standard deviation of the noise added to each rating, in stars; default 0.5. */
  noise?: number;
  /** 'half' stars 0.5-5 (ml-latest) or 'whole' stars 1-5 (ml-100k); default 'half'. */
  scale?: 'half' | 'whole';
  /** Seed of the RandomState; default 42. */
  seed?: number;
}

/** What writeSyntheticRatings wrote. */
export interface SyntheticSummary {
  path: string;
  rows: number;
  users: number;
  items: number;
  bytes: number;
  seconds: number;
}

/** First and last timestamps of ml-25m, so generated times look like MovieLens'. */
const T_FIRST = 789652009;
const T_LAST = 1574327703;
const DAY = 86400;
/**
 * Zipf-like item popularity: the item at rank k has weight 1 / (k + c)², c = nItems / 200. For
 * ml-25m's 59k movies this gives the top movie 0.33% of all ratings, the median movie ~8 and the
 * last ~2, close to the real release (81k of 25M, ~6, 1).
 */
const ZIPF_EXPONENT = 2;
const ZIPF_OFFSET_PER_ITEM = 1 / 200;
/** Spread of log user activity (a log-normal long tail, as in MovieLens). */
const ACTIVITY_SIGMA = 1.3;
/** MovieLens keeps only users with at least this many ratings. */
const MIN_PER_USER = 20;
const HEADER = 'userId,movieId,rating,timestamp\n';

/** Fills in defaults and checks each option. */
function resolveOptions(options: SyntheticOptions): Required<SyntheticOptions> {
  const rows = requireInt('rows', options.rows, 1);
  const users = requireInt('users', options.users ?? Math.max(1, Math.round(rows / 154)), 1, 2 ** 31 - 1);
  const items = requireInt('items', options.items ?? Math.max(Math.round(rows / 420), Math.ceil((2 * rows) / users), 1), 1, 2 ** 31 - 1);
  const factors = requireInt('factors', options.factors ?? 8, 1, 1024);
  const noise = requireNumber('noise', options.noise ?? 0.5, 0, 10);
  const scale = options.scale ?? 'half';
  if (scale !== 'half' && scale !== 'whole') {
    throw new CollabError('INVALID_OPTION', `scale must be "half" or "whole", got "${String(scale)}"`, { field: 'scale' });
  }
  const seed = requireInt('seed', options.seed ?? 42, 0, 0xffffffff);
  if (rows > users * items) {
    throw new CollabError(
      'INVALID_OPTION',
      `rows ${rows} is more than users × items = ${users * items} (a user rates an item at most once); raise --users or --items`,
      { field: 'rows' },
    );
  }
  return { rows, users, items, factors, noise, scale, seed };
}

/**
 * Ratings per user: at least min(20, rows/users) each, the rest shared out in proportion to
 * log-normal weights (a long tail of heavy raters), capped at nItems; sums to exactly `rows`.
 */
function userActivity(rng: RandomState, rows: number, nUsers: number, nItems: number): Int32Array {
  const counts = new Int32Array(nUsers);
  const minPer = Math.min(MIN_PER_USER, Math.floor(rows / nUsers), nItems);
  const weights = new Float64Array(nUsers);
  let total = 0;
  for (let u = 0; u < nUsers; u++) {
    weights[u] = Math.exp(ACTIVITY_SIGMA * rng.normal());
    total += weights[u]!;
  }
  const share = rows - minPer * nUsers;
  let sum = 0;
  for (let u = 0; u < nUsers; u++) {
    const c = Math.min(nItems, minPer + Math.floor((share * weights[u]!) / total));
    counts[u] = c;
    sum += c;
  }
  // Rounding and the cap leave a few ratings over: hand them out one per user in a random order.
  const order = rng.permutation(nUsers);
  while (sum < rows) {
    for (let k = 0; k < nUsers && sum < rows; k++) {
      const u = order[k]!;
      if (counts[u]! < nItems) {
        counts[u] = counts[u]! + 1;
        sum++;
      }
    }
  }
  return counts;
}

/** Vose alias table of Zipf-like weights over popularity ranks, for O(1) draws. */
function zipfAlias(n: number): { prob: Float64Array; alias: Int32Array } {
  const offset = Math.max(1, n * ZIPF_OFFSET_PER_ITEM);
  const w = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    w[k] = 1 / Math.pow(k + offset, ZIPF_EXPONENT);
    total += w[k]!;
  }
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  let ns = 0;
  let nl = 0;
  for (let k = 0; k < n; k++) {
    w[k] = (w[k]! * n) / total;
    if (w[k]! < 1) small[ns++] = k;
    else large[nl++] = k;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns]!;
    const l = large[--nl]!;
    prob[s] = w[s]!;
    alias[s] = l;
    w[l] = w[l]! + w[s]! - 1;
    if (w[l]! < 1) small[ns++] = l;
    else large[nl++] = l;
  }
  while (nl > 0) prob[large[--nl]!] = 1;
  while (ns > 0) prob[small[--ns]!] = 1;
  return { prob, alias };
}

/** Writes the decimal digits of a non-negative integer below 2^31 at pos; returns the new end. */
function putUInt(buf: Buffer, pos: number, v: number): number {
  let len = 1;
  for (let t = v; t >= 10; t = (t / 10) | 0) len++;
  for (let k = pos + len - 1; k >= pos; k--) {
    const q = (v / 10) | 0;
    buf[k] = 48 + v - q * 10;
    v = q;
  }
  return pos + len;
}

/** The true model behind a synthetic dataset, indexed by user = userId − 1 and item = movieId − 1. */
export interface SyntheticTruth {
  /** Global mean μ. */
  mu: number;
  /** b_u per user. */
  userBias: Float32Array;
  /** b_i per item. */
  itemBias: Float32Array;
  /** p_u, row-major nUsers × factors. */
  userFactors: Float32Array;
  /** q_i, row-major nItems × factors. */
  itemFactors: Float32Array;
  factors: number;
  noise: number;
}

/**
 * The generator: long-tail user counts, Zipf-like item popularity and the latent model, drawn once
 * from the seed; `drawUser(u)` then makes one user's rows. Each rating is
 *   r = clip(round(μ + b_u + b_i + p_u·q_i + noise·ε)),  ε ~ N(0, 1),
 * with p_u, q_i ~ N(0, s²) in `factors` dimensions (s⁴ = 0.5 / factors, so Var(p_u·q_i) = 0.5).
 */
class SyntheticModel {
  readonly o: Required<SyntheticOptions>;
  readonly truth: SyntheticTruth;
  private readonly rng: RandomState;
  private readonly counts: Int32Array;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  private readonly itemOfRank: Int32Array;
  private readonly stamp: Int32Array;
  /** The current user's items (ascending), ratings in tenths of a star, and times. */
  readonly items: Int32Array;
  readonly tenths: Int32Array;
  readonly times: Float64Array;

  constructor(options: SyntheticOptions) {
    const o = resolveOptions(options);
    this.o = o;
    const { rows, users: nUsers, items: nItems, factors: k } = o;
    const rng = new RandomState(o.seed);
    this.rng = rng;
    this.counts = userActivity(rng, rows, nUsers, nItems);
    const { prob, alias } = zipfAlias(nItems);
    this.prob = prob;
    this.alias = alias;
    // Popularity rank → item: a permutation, so popular movies are not simply the low ids.
    this.itemOfRank = rng.permutation(nItems);
    const rankOfItem = new Int32Array(nItems);
    for (let rank = 0; rank < nItems; rank++) rankOfItem[this.itemOfRank[rank]!] = rank;
    const s = Math.pow(0.5 / k, 0.25);
    const P = new Float32Array(nUsers * k);
    const Q = new Float32Array(nItems * k);
    for (let j = 0; j < P.length; j++) P[j] = s * rng.normal();
    for (let j = 0; j < Q.length; j++) Q[j] = s * rng.normal();
    const bu = new Float32Array(nUsers);
    const bi = new Float32Array(nItems);
    for (let u = 0; u < nUsers; u++) bu[u] = 0.35 * rng.normal();
    // Popular movies are rated a little higher, as in MovieLens.
    for (let i = 0; i < nItems; i++) bi[i] = 0.45 * rng.normal() + 0.3 * (0.5 - rankOfItem[i]! / nItems);
    const mu = o.scale === 'half' ? 3.5 : 3.55;
    this.truth = { mu, userBias: bu, itemBias: bi, userFactors: P, itemFactors: Q, factors: k, noise: o.noise };
    let maxCount = 0;
    for (let u = 0; u < nUsers; u++) maxCount = Math.max(maxCount, this.counts[u]!);
    this.items = new Int32Array(maxCount);
    this.tenths = new Int32Array(maxCount);
    this.times = new Float64Array(maxCount);
    this.stamp = new Int32Array(nItems).fill(-1);
  }

  /** Draws user u's rows into items / tenths / times and returns how many there are. */
  drawUser(u: number): number {
    const rng = this.rng;
    const { items: nItems, factors: k, noise } = this.o;
    const { prob, alias, itemOfRank, stamp } = this;
    const c = this.counts[u]!;
    const chosen = this.items;
    // c distinct items by popularity (alias draws, repeats rejected by a per-user stamp); a user
    // who has rated nearly everything popular gets the rest by a scan from a random start.
    let got = 0;
    for (let tries = 8 * c + 64; got < c && tries > 0; tries--) {
      const x = rng.random() * nItems;
      const slot = x | 0;
      const rank = x - slot < prob[slot]! ? slot : alias[slot]!;
      const i = itemOfRank[rank]!;
      if (stamp[i] === u) continue;
      stamp[i] = u;
      chosen[got++] = i;
    }
    if (got < c) {
      const start = rng.interval(nItems - 1);
      for (let j = 0; j < nItems && got < c; j++) {
        const i = (start + j) % nItems;
        if (stamp[i] === u) continue;
        stamp[i] = u;
        chosen[got++] = i;
      }
    }
    chosen.subarray(0, c).sort();
    // A user rates during one stretch of time (mean half a year) somewhere in MovieLens' span.
    const t0 = T_FIRST + Math.floor(rng.random() * (T_LAST - T_FIRST - DAY));
    const span = Math.min(T_LAST - t0, DAY + Math.floor(-Math.log(1 - rng.random()) * 182 * DAY));
    const { mu, userBias: bu, itemBias: bi, userFactors: P, itemFactors: Q } = this.truth;
    const half = this.o.scale === 'half';
    const lo10 = half ? 5 : 10;
    const uRow = u * k;
    const uBias = mu + bu[u]!;
    for (let j = 0; j < c; j++) {
      const i = chosen[j]!;
      const iRow = i * k;
      // pred = μ + b_u + b_i + Σ_f P[u,f]·Q[i,f] + noise·ε, then rounded to the scale and clipped.
      let dot = 0;
      for (let f = 0; f < k; f++) dot += P[uRow + f]! * Q[iRow + f]!;
      const pred = uBias + bi[i]! + dot + noise * rng.normal();
      let tenths = half ? Math.round(pred * 2) * 5 : Math.round(pred) * 10;
      if (tenths < lo10) tenths = lo10;
      else if (tenths > 50) tenths = 50;
      this.tenths[j] = tenths;
      this.times[j] = t0 + Math.floor(rng.random() * span);
    }
    return c;
  }
}

/**
 * Writes a MovieLens-shaped ratings.csv (`userId,movieId,rating,timestamp`, rows grouped by user,
 * movies ascending) of any size, streaming through a 1 MiB buffer into a temp file that is renamed
 * over `path` at the end. Items follow Zipf-like popularity, users' counts a log-normal long tail,
 * and ratings a low-rank model plus noise (see SyntheticModel).
 */
export function writeSyntheticRatings(path: string, options: SyntheticOptions): SyntheticSummary {
  const started = process.hrtime.bigint();
  const model = new SyntheticModel(options);
  const { rows, users: nUsers, items: nItems } = model.o;
  const { items, tenths, times } = model;

  mkdirSync(dirname(path), { recursive: true });
  const out = openAtomicWriter(path);
  const buf = Buffer.allocUnsafe(1 << 20);
  const flushAt = buf.length - 64;
  let pos = buf.write(HEADER, 0, 'latin1');
  let bytes = 0;
  try {
    for (let u = 0; u < nUsers; u++) {
      const c = model.drawUser(u);
      for (let j = 0; j < c; j++) {
        pos = putUInt(buf, pos, u + 1);
        buf[pos++] = 44;
        pos = putUInt(buf, pos, items[j]! + 1);
        buf[pos++] = 44;
        const t = tenths[j]!;
        const whole = (t / 10) | 0;
        buf[pos++] = 48 + whole;
        buf[pos++] = 46;
        buf[pos++] = 48 + t - whole * 10;
        buf[pos++] = 44;
        pos = putUInt(buf, pos, times[j]!);
        buf[pos++] = 10;
        if (pos >= flushAt) {
          bytes += out.write(buf, pos);
          pos = 0;
        }
      }
    }
    bytes += out.write(buf, pos);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { path, rows, users: nUsers, items: nItems, bytes, seconds };
}

/**
 * The same ratings as writeSyntheticRatings with the same options, made in memory, plus the true
 * model behind them: a known structure for testing that a model recovers it. Dense indices equal
 * the true ones (user = userId − 1, item = movieId − 1); users and items without ratings still
 * have their id.
 */
export function syntheticRatings(options: SyntheticOptions): { ratings: Ratings; truth: SyntheticTruth } {
  const model = new SyntheticModel(options);
  const { rows, users: nUsers, items: nItems } = model.o;
  const users = new Int32Array(rows);
  const itemCol = new Int32Array(rows);
  const ratings = new Float32Array(rows);
  const timestamps = new Float64Array(rows);
  const { items, tenths, times } = model;
  let r = 0;
  for (let u = 0; u < nUsers; u++) {
    const c = model.drawUser(u);
    for (let j = 0; j < c; j++) {
      users[r] = u;
      itemCol[r] = items[j]!;
      ratings[r] = tenths[j]! / 10;
      timestamps[r] = times[j]!;
      r++;
    }
  }
  const ids = (n: number): number[] => Array.from({ length: n }, (_, k) => k + 1);
  return {
    ratings: { users, items: itemCol, ratings, timestamps, userIds: IdMap.fromIds(ids(nUsers)), itemIds: IdMap.fromIds(ids(nItems)) },
    truth: model.truth,
  };
}
