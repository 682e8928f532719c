import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { linkScore } from './link.js';

// Scores are reported through a sigmoid range or unchanged; top-k never clips.
const NO_CLIP: readonly [number, number] = [-Infinity, Infinity];

/**
 * Top-k selection without a full sort: a fixed-capacity min-heap whose root is the worst item kept.
 * Order: higher score first; equal scores are broken by the LOWER item index first. NaN scores are
 * never selected. Exclusion lists are ascending item indices (as `userItemsCsr` builds them), walked
 * with one pointer while items are scanned in index order, so excluding costs O(|exclude|).
 */

/**
 * Rows of excluded items in compressed sparse rows (row u is items[offsets[u] .. offsets[u+1]), ascending);
 * data's per-user index (`UserItemsCsr`) is one. Declared here so selection needs nothing above maths.
 */
export interface ExcludeRows {
  offsets: Int32Array;
  items: Int32Array;
}

/** The k best items of one user (or one query row), best first. */
export interface TopKResult {
  /** Item indices, best first; fewer than k when fewer were available. */
  items: Int32Array;
  /** Their scores. */
  scores: Float32Array;
}

/** The top k of many users: row t is users[t]'s list; empty slots hold item -1 and score -Infinity. */
export interface TopKMatrix {
  k: number;
  /** The user of each row. */
  users: Int32Array;
  /** users.length × k item indices, best first per row. */
  items: Int32Array;
  /** users.length × k scores. */
  scores: Float32Array;
}

/** Options of `topKAllUsers`. */
export interface TopKAllOptions {
  /** Factors per row of both tables. Required. */
  nFactors: number;
  /** Users to score (dense indices). Default: every row of userFactors. */
  users?: Int32Array;
  /** Users scored per block (rows of the reused score buffer). Default 32. */
  blockSize?: number;
  /** Added to every reported score, e.g. the global mean of a bias model. Default 0. */
  offset?: number;
  /**
   * When set, reported scores are lo + (hi - lo)·sigmoid(s), as a sigmoid-range model predicts; the
   * ranking is unchanged because sigmoid is increasing, so only the k kept scores are transformed. Default: none.
   */
  yRange?: readonly [number, number];
}

// Heap layout: entries base..base+size-1 of (hItems, hScores); a is "worse" than b when
// score_a < score_b, or score_a == score_b and item_a > item_b.

function siftUp(hItems: Int32Array, hScores: Float32Array, base: number, pos: number): void {
  const item = hItems[base + pos]!;
  const score = hScores[base + pos]!;
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    const ps = hScores[base + parent]!;
    const pi = hItems[base + parent]!;
    // stop when the parent is already worse than (or as bad as) the new entry
    if (ps < score || (ps === score && pi > item)) break;
    hItems[base + pos] = pi;
    hScores[base + pos] = ps;
    pos = parent;
  }
  hItems[base + pos] = item;
  hScores[base + pos] = score;
}

function siftDown(hItems: Int32Array, hScores: Float32Array, base: number, size: number, item: number, score: number): void {
  let pos = 0;
  for (;;) {
    let child = 2 * pos + 1;
    if (child >= size) break;
    let cs = hScores[base + child]!;
    let ci = hItems[base + child]!;
    const right = child + 1;
    if (right < size) {
      const rs = hScores[base + right]!;
      const ri = hItems[base + right]!;
      if (rs < cs || (rs === cs && ri > ci)) {
        child = right;
        cs = rs;
        ci = ri;
      }
    }
    // the entry settles once it is worse than its worst child
    if (score < cs || (score === cs && item > ci)) break;
    hItems[base + pos] = ci;
    hScores[base + pos] = cs;
    pos = child;
  }
  hItems[base + pos] = item;
  hScores[base + pos] = score;
}

/** Empties a heap of `size` entries into out[outBase..outBase+size) best first; returns size. */
function drainSorted(
  hItems: Int32Array,
  hScores: Float32Array,
  base: number,
  size: number,
  outItems: Int32Array,
  outScores: Float32Array,
  outBase: number,
): number {
  const n = size;
  for (let t = n - 1; t >= 0; t--) {
    outItems[outBase + t] = hItems[base]!;
    outScores[outBase + t] = hScores[base]!;
    size--;
    if (size > 0) siftDown(hItems, hScores, base, size, hItems[base + size]!, hScores[base + size]!);
  }
  return n;
}

/** A reusable top-k collector: push (item, score) pairs in any order, then take the best k. */
export class TopKHeap {
  private readonly hItems: Int32Array;
  private readonly hScores: Float32Array;
  /** Entries currently kept. */
  size = 0;

  constructor(readonly capacity: number) {
    requireInt('k', capacity, 1);
    this.hItems = new Int32Array(capacity);
    this.hScores = new Float32Array(capacity);
  }

  /** Offers one candidate; NaN scores are ignored. */
  push(item: number, score: number): void {
    if (score !== score) return;
    score = Math.fround(score);
    if (this.size < this.capacity) {
      this.hItems[this.size] = item;
      this.hScores[this.size] = score;
      siftUp(this.hItems, this.hScores, 0, this.size);
      this.size++;
      return;
    }
    const rs = this.hScores[0]!;
    if (score > rs || (score === rs && item < this.hItems[0]!)) {
      siftDown(this.hItems, this.hScores, 0, this.size, item, score);
    }
  }

  /**
   * The score a new item must reach to be kept (it must also beat the worst kept item's index on a tie):
   * the worst kept score once the heap is full, -Infinity before. Lets a caller skip candidates it can bound.
   */
  threshold(): number {
    return this.size < this.capacity ? -Infinity : this.hScores[0]!;
  }

  /** The kept entries best first; empties the heap for reuse. */
  take(): TopKResult {
    const items = new Int32Array(this.size);
    const scores = new Float32Array(this.size);
    drainSorted(this.hItems, this.hScores, 0, this.size, items, scores, 0);
    this.size = 0;
    return { items, scores };
  }
}

function checkExclude(exclude: Int32Array, field: string): void {
  for (let t = 1; t < exclude.length; t++) {
    if (exclude[t]! < exclude[t - 1]!) {
      throw new CollabError('INVALID_OPTION', `${field} must be sorted ascending (position ${t} has ${exclude[t]} after ${exclude[t - 1]}); sort it or build it with userItemsCsr`, { field });
    }
  }
}

/**
 * The k highest-scoring items of one score row (item i has scores[i]), skipping the ascending item
 * indices in `exclude`; best first, ties by lower index.
 */
export function topKForUser(scores: Float32Array, k: number, exclude?: Int32Array): TopKResult {
  requireInt('k', k, 1);
  const ex = exclude ?? new Int32Array(0);
  checkExclude(ex, 'exclude');
  const hItems = new Int32Array(k);
  const hScores = new Float32Array(k);
  const size = scanRow(scores, 0, scores.length, ex, 0, ex.length, hItems, hScores, 0, k);
  const items = new Int32Array(size);
  const out = new Float32Array(size);
  drainSorted(hItems, hScores, 0, size, items, out, 0);
  return { items, scores: out };
}

/**
 * Pushes scores[rowBase + i] for i = 0..nItems-1, minus exclude[exStart..exEnd), into the heap at
 * `base`; returns the heap's size. Items arrive in ascending index, so a candidate that ties the root
 * has the higher index and loses: a strict `>` against the root suffices.
 */
function scanRow(
  scores: Float32Array,
  rowBase: number,
  nItems: number,
  exclude: Int32Array,
  exStart: number,
  exEnd: number,
  hItems: Int32Array,
  hScores: Float32Array,
  base: number,
  k: number,
): number {
  let size = 0;
  let t = exStart;
  let next = t < exEnd ? exclude[t]! : -1;
  let root = -Infinity;
  for (let i = 0; i < nItems; i++) {
    if (i === next) {
      t++;
      next = t < exEnd ? exclude[t]! : -1;
      continue;
    }
    const s = scores[rowBase + i]!;
    if (size === k) {
      if (s > root) {
        siftDown(hItems, hScores, base, k, i, s);
        root = hScores[base]!;
      }
    } else if (s === s) {
      hItems[base + size] = i;
      hScores[base + size] = s;
      siftUp(hItems, hScores, base, size);
      size++;
      if (size === k) root = hScores[base]!;
    }
  }
  return size;
}

/**
 * Top k for many users of a factor model: score(u, i) = p_u · q_i + b_u + b_i (+ offset), items each
 * user rated in `excludeCsr` left out. Users are taken `blockSize` at a time; the block's scores against
 * every item are one small matmul into a reused buffer (4 users × 2 items per register block), then each
 * user's row is scanned into its own k-heap. No per-user allocation, no full sort.
 */
export function topKAllUsers(
  userFactors: Float32Array,
  itemFactors: Float32Array,
  k: number,
  userBias: Float32Array | undefined,
  itemBias: Float32Array | undefined,
  excludeCsr: ExcludeRows | undefined,
  opts: TopKAllOptions,
): TopKMatrix {
  const nf = requireInt('nFactors', opts.nFactors, 1);
  requireInt('k', k, 1);
  if (userFactors.length % nf !== 0 || itemFactors.length % nf !== 0) {
    throw new CollabError('INVALID_OPTION', `factor tables of length ${userFactors.length} and ${itemFactors.length} are not multiples of nFactors ${nf}; pass the model's number of factors`, { field: 'nFactors' });
  }
  const nUsers = userFactors.length / nf;
  const nItems = itemFactors.length / nf;
  if (userBias !== undefined && userBias.length !== nUsers) {
    throw new CollabError('INVALID_OPTION', `userBias has ${userBias.length} entries for ${nUsers} users`, { field: 'userBias' });
  }
  if (itemBias !== undefined && itemBias.length !== nItems) {
    throw new CollabError('INVALID_OPTION', `itemBias has ${itemBias.length} entries for ${nItems} items`, { field: 'itemBias' });
  }
  const blockSize = requireInt('blockSize', opts.blockSize ?? 32, 1);
  const offset = requireNumber('offset', opts.offset ?? 0);
  let users = opts.users;
  if (users === undefined) {
    users = new Int32Array(nUsers);
    for (let u = 0; u < nUsers; u++) users[u] = u;
  }
  for (let t = 0; t < users.length; t++) {
    if (users[t]! < 0 || users[t]! >= nUsers) {
      throw new CollabError('INVALID_OPTION', `users[${t}] is ${users[t]}, outside 0..${nUsers - 1}`, { field: 'users' });
    }
  }
  if (excludeCsr !== undefined) {
    if (excludeCsr.offsets.length < nUsers + 1) {
      throw new CollabError('INVALID_OPTION', `the exclusion CSR covers ${excludeCsr.offsets.length - 1} users, the model has ${nUsers}; build it with nUsers of the model`, { field: 'excludeCsr' });
    }
    for (let t = 0; t < users.length; t++) {
      const u = users[t]!;
      checkExclude(excludeCsr.items.subarray(excludeCsr.offsets[u]!, excludeCsr.offsets[u + 1]!), 'excludeCsr');
    }
  }
  const exItems = excludeCsr?.items ?? new Int32Array(0);
  const exOffsets = excludeCsr?.offsets;

  const nRows = users.length;
  const outItems = new Int32Array(nRows * k).fill(-1);
  const outScores = new Float32Array(nRows * k).fill(-Infinity);
  const block = Math.min(blockSize, Math.max(nRows, 1));
  const buf = new Float32Array(block * nItems);
  const pBlock = new Float64Array(block * nf);
  const hItems = new Int32Array(k);
  const hScores = new Float32Array(k);
  const bi = itemBias;

  for (let start = 0; start < nRows; start += block) {
    const nb = Math.min(block, nRows - start);
    // gather the block's user vectors, as float64 so the products below accumulate in float64
    for (let b = 0; b < nb; b++) {
      const uRow = users[start + b]! * nf;
      for (let f = 0; f < nf; f++) pBlock[b * nf + f] = userFactors[uRow + f]!;
    }
    // buf[b, i] = p_b · q_i + b_i, four users per pass over the items
    let b = 0;
    for (; b + 4 <= nb; b += 4) {
      const p0 = b * nf;
      const p1 = p0 + nf;
      const p2 = p1 + nf;
      const p3 = p2 + nf;
      const o0 = b * nItems;
      const o1 = o0 + nItems;
      const o2 = o1 + nItems;
      const o3 = o2 + nItems;
      // two items at a time: 8 accumulators share 4 user loads and 2 item loads per factor
      let i = 0;
      for (; i + 2 <= nItems; i += 2) {
        const iRow = i * nf;
        const jRow = iRow + nf;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let t0 = 0;
        let t1 = 0;
        let t2 = 0;
        let t3 = 0;
        for (let f = 0; f < nf; f++) {
          const q = itemFactors[iRow + f]!;
          const r = itemFactors[jRow + f]!;
          const a0 = pBlock[p0 + f]!;
          const a1 = pBlock[p1 + f]!;
          const a2 = pBlock[p2 + f]!;
          const a3 = pBlock[p3 + f]!;
          s0 += a0 * q;
          s1 += a1 * q;
          s2 += a2 * q;
          s3 += a3 * q;
          t0 += a0 * r;
          t1 += a1 * r;
          t2 += a2 * r;
          t3 += a3 * r;
        }
        const bias = bi === undefined ? 0 : bi[i]!;
        const bias2 = bi === undefined ? 0 : bi[i + 1]!;
        buf[o0 + i] = s0 + bias;
        buf[o1 + i] = s1 + bias;
        buf[o2 + i] = s2 + bias;
        buf[o3 + i] = s3 + bias;
        buf[o0 + i + 1] = t0 + bias2;
        buf[o1 + i + 1] = t1 + bias2;
        buf[o2 + i + 1] = t2 + bias2;
        buf[o3 + i + 1] = t3 + bias2;
      }
      for (; i < nItems; i++) {
        const iRow = i * nf;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let f = 0; f < nf; f++) {
          const q = itemFactors[iRow + f]!;
          s0 += pBlock[p0 + f]! * q;
          s1 += pBlock[p1 + f]! * q;
          s2 += pBlock[p2 + f]! * q;
          s3 += pBlock[p3 + f]! * q;
        }
        const bias = bi === undefined ? 0 : bi[i]!;
        buf[o0 + i] = s0 + bias;
        buf[o1 + i] = s1 + bias;
        buf[o2 + i] = s2 + bias;
        buf[o3 + i] = s3 + bias;
      }
    }
    for (; b < nb; b++) {
      const p0 = b * nf;
      const o0 = b * nItems;
      for (let i = 0; i < nItems; i++) {
        const iRow = i * nf;
        let s0 = 0;
        for (let f = 0; f < nf; f++) s0 += pBlock[p0 + f]! * itemFactors[iRow + f]!;
        buf[o0 + i] = s0 + (bi === undefined ? 0 : bi[i]!);
      }
    }
    // one heap per user, drained straight into the output rows
    for (let b2 = 0; b2 < nb; b2++) {
      const row = start + b2;
      const u = users[row]!;
      const exStart = exOffsets === undefined ? 0 : exOffsets[u]!;
      const exEnd = exOffsets === undefined ? 0 : exOffsets[u + 1]!;
      const size = scanRow(buf, b2 * nItems, nItems, exItems, exStart, exEnd, hItems, hScores, 0, k);
      drainSorted(hItems, hScores, 0, size, outItems, outScores, row * k);
      const add = offset + (userBias === undefined ? 0 : userBias[u]!);
      for (let t = 0; t < size; t++) outScores[row * k + t] = outScores[row * k + t]! + add;
    }
  }
  if (opts.yRange !== undefined) {
    const link = { yRange: opts.yRange, clip: NO_CLIP };
    // the model's link, pred = lo + (hi - lo) / (1 + e^-s); empty slots stay -Infinity
    for (let t = 0; t < outScores.length; t++) {
      if (outItems[t]! >= 0) outScores[t] = linkScore(link, outScores[t]!);
    }
  }
  return { k, users, items: outItems, scores: outScores };
}

/**
 * The rows of a TopKMatrix as per-user views (no copies), indexed by user and undefined for users that
 * were not scored, with empty slots cut off: the `recs` argument of `rankingReport`.
 */
export function topKRows(m: TopKMatrix, nUsers: number): (Int32Array | undefined)[] {
  const rows: (Int32Array | undefined)[] = new Array(nUsers).fill(undefined);
  for (let t = 0; t < m.users.length; t++) {
    let len = 0;
    while (len < m.k && m.items[t * m.k + len]! >= 0) len++;
    rows[m.users[t]!] = m.items.subarray(t * m.k, t * m.k + len);
  }
  return rows;
}

/** Options of `topKForVector`. */
export interface TopKForVectorOptions {
  /** The user's bias b_u, added to the reported scores. Default 0. */
  userBias?: number;
  /** Item biases b_i, one per item row. Default: none. */
  itemBias?: Float32Array;
  /** Added to every reported score (global mean). Default 0. */
  offset?: number;
  /** Map reported scores through lo + (hi - lo)·sigmoid(s). Default: none. */
  yRange?: readonly [number, number];
  /** Ascending item indices to leave out (the user's rated items). Default: none. */
  exclude?: Int32Array;
}

/**
 * Top k items for one user vector that is not a row of the model (a folded-in user):
 * score(i) = p · q_i + b_i, ranked with ties by lower index; reported scores add b_u + offset (and yRange).
 */
export function topKForVector(userVector: Float32Array, itemFactors: Float32Array, k: number, options: TopKForVectorOptions = {}): TopKResult {
  const nf = userVector.length;
  if (nf === 0 || itemFactors.length % nf !== 0) {
    throw new CollabError('INVALID_OPTION', `an item table of length ${itemFactors.length} does not fit a user vector of ${nf} factors`, { field: 'userVector' });
  }
  const nItems = itemFactors.length / nf;
  const bi = options.itemBias;
  if (bi !== undefined && bi.length !== nItems) {
    throw new CollabError('INVALID_OPTION', `itemBias has ${bi.length} entries for ${nItems} items`, { field: 'itemBias' });
  }
  const scores = new Float32Array(nItems);
  // s_i = Σ_f p_f q_i,f + b_i
  for (let i = 0; i < nItems; i++) {
    const iRow = i * nf;
    let s = 0;
    for (let f = 0; f < nf; f++) s += userVector[f]! * itemFactors[iRow + f]!;
    scores[i] = s + (bi === undefined ? 0 : bi[i]!);
  }
  const top = topKForUser(scores, k, options.exclude);
  const add = requireNumber('offset', options.offset ?? 0) + requireNumber('userBias', options.userBias ?? 0);
  const link = { yRange: options.yRange, clip: NO_CLIP };
  for (let t = 0; t < top.scores.length; t++) top.scores[t] = linkScore(link, top.scores[t]! + add);
  return top;
}
