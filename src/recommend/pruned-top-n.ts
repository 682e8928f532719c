import { topkKernels, type TopkKernelExports } from '../kernels/topk-kernels.js';
import { linkFloor, linkScore } from '../maths/link.js';
import type { TopKHeap } from '../maths/top-k.js';
import { rawScores, type FactorScoring } from '../models/scoring.js';
import { PickScorer } from './pick-scorer.js';

/** Candidates per chunk: the unit whose bound is checked before any of its movies is looked at. */
const CHUNK = 64;

/** Relative slack of every bound (see {@link raise}): far above the float32 roundings it covers (2^-24 each). */
const SLACK = 1e-6;

/**
 * The exact top-n of the users of a factor model over a fixed candidate set (the movies a request's filters
 * leave), ranked as ModelRecommender ranks one user:
 *   v_i = fround(link(s_i)),  r_i = fround(v_i + w·pop_i)  (r_i = v_i when w = 0),  ties to the lower index,
 * s_i the float64 chain of models/scoring's rawScores, so every list equals the per-user list bit for bit.
 *
 * Most movies are never scored. The link is monotone and p·q ≤ |p||q|, so movie i cannot beat the user's
 * current n-th best θ when  link(offset + b_u + b_i + |p_u||q_i|) + w·pop_i < θ.  Candidates are kept in
 * chunks sorted by that bound for the average user, so θ rises within the first chunks; per chunk the
 * maxima of b_i, |q_i| and pop_i bound it whole (skipped), and their suffix maxima end the user's scan.
 * Inside a chunk a movie is scored only when its own bound reaches θ, and Math.exp is taken only of raw
 * scores whose bound reaches it too; these per-movie bounds run in the topk kernel with sigmoidUpper (no exp
 * in wasm). A hybrid's pick-head term is bounded by b'_i + |p'_u||q'_i| and computed only for those movies.
 */
export class PrunedTopN {
  /** Candidates in scan order (dense movie indices). */
  private readonly order: Int32Array;
  /** Scan position of each dense movie, -1 for movies that are not candidates. */
  private readonly position: Int32Array;
  /** Per position of the scan: b_i and |q_i| (views of the kernel's memory when it runs). */
  private readonly bias: Float64Array;
  private readonly norm: Float64Array;
  /** excluded[t] === mark: the movie at position t is left out for the current user. */
  private readonly excluded: Int32Array;
  private mark = 0;
  private readonly chunks: number;
  /** Per chunk: max b_i, max |q_i|, max pop_i; tail*: the same over the chunk and every later one. */
  private readonly maxB: Float64Array;
  private readonly maxQ: Float64Array;
  private readonly maxP: Float64Array;
  private readonly tailB: Float64Array;
  private readonly tailQ: Float64Array;
  private readonly tailP: Float64Array;
  /** pop_i: a table, or a hybrid's pick head (b'_i + p'_u·q'_i, computed only for the movies ranked). */
  private readonly popularity: Float32Array | PickScorer;
  /** With a pick head, per chunk max b'_i and max |q'_i| (and their tails): pop_i ≤ b'_i + |p'_u||q'_i|. */
  private readonly pickB: Float64Array;
  private readonly pickQ: Float64Array;
  private readonly pickTailB: Float64Array;
  private readonly pickTailQ: Float64Array;
  /**
   * Per position the popularity term's bound, popA + |p'_u|·popB: pop_i and 0 for a table, b'_i and |q'_i| for a
   * pick head (views of the kernel's memory when it runs).
   */
  private readonly popA: Float64Array;
  private readonly popB: Float64Array;
  /** One chunk's scan positions that can still reach the list, and their raw scores (views of the kernel's memory when it runs). */
  private readonly list: Int32Array;
  private readonly raw: Float64Array;
  /** The same chunk's movies (dense), for rawScores when no kernel runs. */
  private readonly items: Int32Array;
  /** The wasm kernel and views of its memory, or undefined (no SIMD): the same scan runs in JS. */
  private readonly kernel: { exports: TopkKernelExports; at: KernelLayout; p: Float64Array; stats: Int32Array; seen: Int32Array } | undefined;
  /** fround(link(s_i)) of the movies the last select ranked (indexed by dense movie). */
  private readonly linkValues: Float32Array;
  private scoredInJs = 0;

  /**
   * Over `candidates` (dense movies, any order), ranked with popularity weight `weight` and `popularity`
   * (per movie, or a hybrid's pick head, whose term is personal: the pick head's b'_i + p'_u·q'_i, rounded to
   * float32 as the per-user path stores it). `wasm: false` runs the scan in JS, as a runtime without
   * WebAssembly SIMD does (the same lists).
   */
  constructor(
    private readonly scoring: FactorScoring,
    candidates: Int32Array,
    popularity: Float32Array | PickScorer,
    private readonly weight: number,
    options: { wasm?: boolean } = {},
  ) {
    const { k, P, Q, bu, bi, offset } = scoring;
    const nUsers = P.length / k;
    const nItems = Q.length / k;
    const nc = candidates.length;
    const at = kernelLayout(nc, nItems, k);
    const kernels = options.wasm === false ? undefined : topkKernels(at.bytes);
    const buffer = kernels?.memory.buffer;
    // |q_i| of every candidate; with the kernel, its rows are staged in candidate order (native copies) and the
    // sums run in wasm, which a one-shot run executes at speed from the start
    let norms: Float64Array;
    if (kernels && buffer) {
      const staging = new Float32Array(buffer, at.staging, nc * k);
      for (let t = 0; t < nc; t++) staging.set(Q.subarray(candidates[t]! * k, (candidates[t]! + 1) * k), t * k);
      kernels.exports.rowNorms(at.staging, nc, k, at.norm);
      norms = new Float64Array(buffer, at.norm, nc).slice();
    } else {
      norms = new Float64Array(nc);
      for (let t = 0; t < nc; t++) norms[t] = rowNorm(Q, candidates[t]! * k, k);
    }
    // the scan order: candidates by their bound for the average user, best first
    let meanC = 0;
    let meanA = 0;
    for (let u = 0; u < nUsers; u++) {
      meanC += (bu ? bu[u]! : 0) / nUsers;
      meanA += rowNorm(P, u * k, k) / nUsers;
    }
    // a pick head's term for the average user: b'_i + mean |p'|·|q'_i|
    const pick = popularity instanceof PickScorer ? popularity : undefined;
    const pickNorms = pick ? new Float64Array(nc) : undefined;
    let meanPick = 0;
    if (pick && pickNorms) {
      for (let t = 0; t < nc; t++) pickNorms[t] = rowNorm(pick.items.factors, candidates[t]! * pick.k, pick.k);
      for (let u = 0; u < nUsers; u++) meanPick += rowNorm(pick.user(u), 0, pick.k) / nUsers;
    }
    const key = new Float64Array(nc);
    for (let t = 0; t < nc; t++) {
      const i = candidates[t]!;
      const pop = pick ? pick.items.bias[i]! + meanPick * pickNorms![t]! : (popularity as Float32Array)[i]!;
      key[t] = linkScore(scoring, offset + meanC + (bi ? bi[i]! : 0) + meanA * norms[t]!) + weight * pop;
    }
    const byKey = orderByKey(key);
    this.order = new Int32Array(nc);
    this.position = (buffer ? new Int32Array(buffer, at.position, nItems) : new Int32Array(nItems)).fill(-1);
    this.bias = buffer ? new Float64Array(buffer, at.bias, nc) : new Float64Array(nc);
    this.norm = buffer ? new Float64Array(buffer, at.norm, nc) : new Float64Array(nc);
    this.excluded = buffer ? new Int32Array(buffer, at.excluded, nc) : new Int32Array(nc);
    this.popA = buffer ? new Float64Array(buffer, at.popA, nc) : new Float64Array(nc);
    this.popB = buffer ? new Float64Array(buffer, at.popB, nc) : new Float64Array(nc);
    this.list = buffer ? new Int32Array(buffer, at.list, CHUNK) : new Int32Array(CHUNK);
    this.raw = buffer ? new Float64Array(buffer, at.out, CHUNK) : new Float64Array(CHUNK);
    this.items = new Int32Array(CHUNK);
    for (let t = 0; t < nc; t++) {
      const i = candidates[byKey[t]!]!;
      this.order[t] = i;
      this.position[i] = t;
      this.norm[t] = norms[byKey[t]!]!;
      this.bias[t] = bi ? bi[i]! : 0;
      this.popA[t] = pick ? pick.items.bias[i]! : (popularity as Float32Array)[i]!;
      this.popB[t] = pick ? pickNorms![byKey[t]!]! : 0;
    }
    if (kernels && buffer) {
      // the candidates' rows of Q and their b_i in scan order (float32), next to each other
      new Int32Array(buffer, at.seen, nc).set(byKey);
      kernels.exports.gatherRows(at.rows, at.staging, at.seen, nc, k);
      new Float32Array(buffer, at.bi, nc).set(this.bias);
      const views = { p: new Float64Array(buffer, at.p, k), stats: new Int32Array(buffer, at.stats, 1), seen: new Int32Array(buffer, at.seen, nItems) };
      this.kernel = { exports: kernels.exports, at, ...views };
      new Float64Array(buffer, at.sigmoid, SIGMOID_TABLE.length).set(SIGMOID_TABLE);
      kernels.exports.setSigmoidTable(at.sigmoid);
      kernels.exports.setLayout(at.bias, at.norm, at.popA, at.popB, at.excluded, at.position, at.p, at.rows, at.bi, at.list, at.out, at.stats, k);
      const { yRange, clip } = scoring;
      if (yRange) kernels.exports.setRank(1, yRange[0], yRange[1] - yRange[0], weight);
      else kernels.exports.setRank(0, clip[0], clip[1], weight);
    }
    this.chunks = Math.ceil(nc / CHUNK);
    this.maxB = new Float64Array(this.chunks);
    this.maxQ = new Float64Array(this.chunks);
    this.maxP = new Float64Array(this.chunks);
    this.tailB = new Float64Array(this.chunks);
    this.tailQ = new Float64Array(this.chunks);
    this.tailP = new Float64Array(this.chunks);
    chunkMaxima(this.bias, undefined, this.maxB, this.tailB);
    chunkMaxima(this.norm, undefined, this.maxQ, this.tailQ);
    this.linkValues = new Float32Array(nItems);
    this.popularity = popularity;
    const perChunk = (): Float64Array => new Float64Array(this.chunks);
    [this.pickB, this.pickQ, this.pickTailB, this.pickTailQ] = [perChunk(), perChunk(), perChunk(), perChunk()];
    if (pick) {
      chunkMaxima(this.popA, undefined, this.pickB, this.pickTailB);
      chunkMaxima(this.popB, undefined, this.pickQ, this.pickTailQ);
    } else chunkMaxima(this.popA, undefined, this.maxP, this.tailP);
  }

  /** Movies whose dot product was computed, over every user so far (how much the bounds prune). */
  get scoredItems(): number {
    return this.scoredInJs + (this.kernel ? this.kernel.stats[0]! : 0);
  }

  /**
   * Fills `heap` (empty; its capacity is n) with dense user u's best candidates, leaving out `exclude`
   * (dense movies, any order).
   */
  select(u: number, exclude: Int32Array | undefined, heap: TopKHeap): void {
    const scoring = this.scoring;
    const { k, P, bu, offset, yRange } = scoring;
    const popularity = this.popularity;
    const pick = popularity instanceof PickScorer ? popularity : undefined;
    const pickUser = pick?.user(u);
    const a2 = pickUser ? rowNorm(pickUser, 0, pickUser.length) : 0;
    const { order, position, excluded, list, raw, kernel, linkValues } = this;
    const mark = ++this.mark;
    if (exclude && kernel && exclude.length <= kernel.seen.length) {
      kernel.seen.set(exclude);
      kernel.exports.markExcluded(kernel.at.seen, exclude.length, mark);
    } else if (exclude) {
      for (let t = 0; t < exclude.length; t++) {
        const at = position[exclude[t]!]!;
        if (at >= 0) excluded[at] = mark;
      }
    }
    const p = P.subarray(u * k, (u + 1) * k);
    const b = bu ? bu[u]! : 0;
    const init = offset + b;
    const a = rowNorm(P, u * k, k);
    const w = this.weight;
    if (kernel) for (let f = 0; f < k; f++) kernel.p[f] = p[f]!;
    // a sigmoid range the wrong way round turns every bound upside down: no pruning then
    const prunes = !yRange || yRange[1] >= yRange[0];
    for (let c = 0; c < this.chunks; c++) {
      const theta = prunes ? heap.threshold() : -Infinity;
      // a movie whose rank bound, raised by eps, is below θ cannot enter the list
      const eps = SLACK * (1 + Math.abs(theta));
      let floor = -Infinity;
      if (theta > -Infinity) {
        const tailPop = pick ? this.pickTailB[c]! + a2 * this.pickTailQ[c]! : this.tailP[c]!;
        if (raise(linkScore(scoring, init + this.tailB[c]! + a * this.tailQ[c]!) + w * tailPop) < theta) break;
        const maxPop = pick ? this.pickB[c]! + a2 * this.pickQ[c]! : this.maxP[c]!;
        if (raise(linkScore(scoring, init + this.maxB[c]! + a * this.maxQ[c]!) + w * maxPop) < theta) continue;
        // below this raw score (or bound) no movie of the chunk reaches θ, whatever its popularity: a test
        // cheaper than each movie's own bound, which it spares most movies (NaN: no floor)
        floor = linkFloor(scoring, theta - w * maxPop - eps);
        if (floor !== floor) floor = -Infinity;
      }
      const end = Math.min(order.length, (c + 1) * CHUNK);
      const m = kernel
        ? kernel.exports.scanChunk(c * CHUNK, end, floor, theta, eps, init, a, a2, mark)
        : this.scanChunk(c * CHUNK, end, floor, theta, eps, init, a, a2, mark, p, b);
      for (let t = 0; t < m; t++) {
        const i = order[list[t]!]!;
        const v = Math.fround(linkScore(scoring, raw[t]!));
        linkValues[i] = v;
        if (w > 0) {
          const pop = pick ? Math.fround(pick.scoreItem(pickUser!, i)) : (popularity as Float32Array)[i]!;
          heap.push(i, Math.fround(v + w * pop));
        } else heap.push(i, v);
      }
    }
  }

  // The kernel's scanChunk in JS (no SIMD): the same tests in the same arithmetic, the same raw scores (rawScores' chains).
  private scanChunk(from: number, to: number, floor: number, theta: number, eps: number, init: number, a: number, a2: number, mark: number, p: Float32Array, b: number): number {
    const { bias, norm, popA, popB, excluded, list, raw, items, order } = this;
    let n = 0;
    for (let t = from; t < to; t++) {
      // the raw score is at most init + b_i + |p||q_i|; a NaN bound is kept (never prunes)
      const x = init + bias[t]! + a * norm[t]!;
      if (!(x < floor) && !(this.rankUpper(x, popA[t]! + a2 * popB[t]!) + eps < theta) && excluded[t] !== mark) list[n++] = t;
    }
    for (let t = 0; t < n; t++) items[t] = order[list[t]!]!;
    rawScores(this.scoring, p, b, raw, items, n);
    this.scoredInJs += n;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const s = raw[j]!;
      const t = list[j]!;
      if (s >= floor && !(this.rankUpper(s, popA[t]! + a2 * popB[t]!) + eps < theta)) {
        list[m] = t;
        raw[m++] = s;
      }
    }
    return m;
  }

  // link(x) + w·pop, the sigmoid bounded above by sigmoidUpper: the kernel's rankUpper.
  private rankUpper(x: number, pop: number): number {
    const { yRange, clip } = this.scoring;
    const link = yRange ? yRange[0] + (yRange[1] - yRange[0]) * sigmoidUpper(x) : Math.min(Math.max(x, clip[0]), clip[1]);
    return link + this.weight * pop;
  }

  /** fround(link(s_i)) of movie i: its predicted rating, valid for the movies the last {@link select} left in the heap. */
  linkValue(i: number): number {
    return this.linkValues[i]!;
  }
}

/**
 * Byte offsets of the kernel's memory: Q's candidate rows staged in candidate order, the same rows and b_i
 * (float32, scan order), bias, norm and the popularity bounds (float64), exclusion marks, each dense movie's
 * position, p, a chunk's list and raw scores, the scored counter, room for one user's seen movies, and the
 * sigmoid table.
 */
interface KernelLayout {
  staging: number;
  rows: number;
  bi: number;
  bias: number;
  norm: number;
  popA: number;
  popB: number;
  excluded: number;
  position: number;
  p: number;
  list: number;
  out: number;
  stats: number;
  seen: number;
  sigmoid: number;
  bytes: number;
}

function kernelLayout(nc: number, nItems: number, k: number): KernelLayout {
  const staging = 0;
  const rows = align16(staging + 4 * nc * k);
  const bi = align16(rows + 4 * nc * k);
  const bias = align16(bi + 4 * nc);
  const norm = align16(bias + 8 * nc);
  const popA = align16(norm + 8 * nc);
  const popB = align16(popA + 8 * nc);
  const excluded = align16(popB + 8 * nc);
  const position = align16(excluded + 4 * nc);
  const p = align16(position + 4 * nItems);
  const list = align16(p + 8 * k);
  const out = align16(list + 4 * CHUNK);
  const stats = align16(out + 8 * CHUNK);
  const seen = align16(stats + 4);
  const sigmoid = align16(seen + 4 * nItems);
  return { staging, rows, bi, bias, norm, popA, popB, excluded, position, p, list, out, stats, seen, sigmoid, bytes: sigmoid + 8 * SIGMOID_TABLE.length };
}

/** The sigmoid at -40 + j/16, j = 0..1281: sigmoidUpper's table (the kernel reads a copy). */
export const SIGMOID_TABLE = Float64Array.from({ length: 1282 }, (_, j) => 1 / (1 + Math.exp(-(-40 + j / 16))));

/**
 * A value ≥ 1/(1 + e^-x), within 1.1e-4 of it, without Math.exp: the chord between two entries of
 * {@link SIGMOID_TABLE} plus 6e-5 (a chord under the concave half of the curve lies at most
 * (1/16)²/8 · max|σ''| = 4.7e-5 below it); below -40 the first entry, from 40 on 1. The kernel's sigmoidUpper
 * in the same operations and order, so both give the same bits. NaN stays NaN.
 */
export function sigmoidUpper(x: number): number {
  const u = (x + 40) * 16;
  if (u !== u) return u;
  if (u < 0) return SIGMOID_TABLE[0]! + 6e-5;
  if (u >= 1280) return 1;
  const j = Math.floor(u);
  const t0 = SIGMOID_TABLE[j]!;
  return t0 + (SIGMOID_TABLE[j + 1]! - t0) * (u - j) + 6e-5;
}

/**
 * A bound raised past the rounding it could hide: it is float64 while a ranked score went through two
 * float32 roundings, and the norms and chains round in float64.
 */
function raise(bound: number): number {
  return bound + SLACK * (1 + Math.abs(bound));
}

/**
 * Positions 0..n-1 by key, highest first (a counting sort on 4,096 buckets: the order only speeds the scan up,
 * so buckets are fine enough); within a bucket, and for NaN keys (last), positions stay ascending.
 */
function orderByKey(key: Float64Array): Int32Array {
  const n = key.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < n; t++) {
    const x = key[t]!;
    if (Number.isFinite(x)) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  const buckets = 4096;
  const scale = hi > lo ? (buckets - 1) / (hi - lo) : 0;
  const bucketOf = new Int32Array(n);
  const starts = new Int32Array(buckets + 1);
  for (let t = 0; t < n; t++) {
    const x = key[t]!;
    const b = Number.isFinite(x) ? Math.min(buckets - 1, Math.floor((hi - x) * scale)) : x === Infinity ? 0 : buckets - 1;
    bucketOf[t] = b;
    starts[b + 1]!++;
  }
  for (let b = 0; b < buckets; b++) starts[b + 1]! += starts[b]!;
  const out = new Int32Array(n);
  for (let t = 0; t < n; t++) out[starts[bucketOf[t]!]!++] = t;
  return out;
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

function rowNorm(table: Float32Array, at: number, k: number): number {
  let s = 0;
  for (let c = 0; c < k; c++) s += table[at + c]! * table[at + c]!;
  return Math.sqrt(s);
}

// Per chunk the maximum of x[t] (x[at[t]] when `at` is given), and the suffix maxima of those; NaN counts as
// +Infinity, so it never prunes.
function chunkMaxima(x: Float64Array | Float32Array, at: Int32Array | undefined, max: Float64Array, tail: Float64Array): void {
  const n = at ? at.length : x.length;
  for (let c = 0; c < max.length; c++) {
    let m = -Infinity;
    const end = Math.min(n, (c + 1) * CHUNK);
    for (let t = c * CHUNK; t < end; t++) {
      const v = x[at ? at[t]! : t]!;
      if (v !== v) m = Infinity;
      else if (v > m) m = v;
    }
    max[c] = m;
  }
  let m = -Infinity;
  for (let c = max.length - 1; c >= 0; c--) {
    if (max[c]! > m) m = max[c]!;
    tail[c] = m;
  }
}
