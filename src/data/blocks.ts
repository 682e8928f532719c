import { requireInt } from '../core/errors.js';
import type { RandomState } from '../core/random.js';

/**
 * The rating matrix cut into bins × bins blocks (LIBMF's FPSGD grid, Zhuang et al. 2013): users go to
 * `bins` user bins and items to `bins` item bins, and the rating rows are stored block by block, so a
 * trainer working inside one block touches only 1/bins of each factor table (it stays in cache) and two
 * blocks that share no user bin and no item bin can be trained at the same time without touching a common row.
 */
export interface BlockGrid {
  readonly bins: number;
  /** User bin of each dense user index. */
  readonly userBin: Int32Array;
  /** Item bin of each dense item index. */
  readonly itemBin: Int32Array;
  /** Rating row numbers, block (a, b) at rows[blockStart[a · bins + b] .. blockStart[a · bins + b + 1]). */
  readonly rows: Int32Array;
  /** Where each block starts in `rows` (bins² + 1 entries, row-major by user bin). */
  readonly blockStart: Int32Array;
}

/**
 * Spreads indices over `bins` bins so each bin holds about the same number of ratings: heaviest first, each
 * to the bin with the fewest ratings so far (ties broken by a seeded draw), so one very active user or very
 * popular movie cannot make its block the one every other thread waits for.
 */
function balancedBins(counts: Int32Array, bins: number, rng: RandomState): Int32Array {
  const n = counts.length;
  const byCount = new Int32Array(n);
  for (let j = 0; j < n; j++) byCount[j] = j;
  rng.shuffle(byCount);
  // stable sort of the shuffled indices by count, heaviest first: equal counts stay in their random order
  const sorted = Array.from(byCount).sort((x, y) => counts[y]! - counts[x]!);
  const load = new Float64Array(bins);
  const bin = new Int32Array(n);
  for (const j of sorted) {
    let best = 0;
    for (let b = 1; b < bins; b++) if (load[b]! < load[best]!) best = b;
    bin[j] = best;
    load[best] += counts[j]!;
  }
  return bin;
}

/** Options of {@link blockGrid}. */
export interface BlockGridOptions {
  /**
   * Store each block's rows by ascending user, each user's rows in a seeded random order of their items
   * (LIBMF sorts a block by user and shuffled item id for the same reason): a trainer then updates one user's factor row several times in a
   * row while it is in cache, and walks the user table forwards. Default false: rows keep table order.
   */
  byUser?: boolean;
}

/**
 * Cuts a rating table into a bins × bins grid (see {@link BlockGrid}); within a block the rows keep their
 * table order (or go by user, see {@link BlockGridOptions}). The bins (and the order within a user) are drawn
 * from `rng`, so the grid, and every schedule over it, is seeded.
 */
export function blockGrid(
  users: Int32Array, items: Int32Array, nUsers: number, nItems: number, bins: number, rng: RandomState,
  options: BlockGridOptions = {},
): BlockGrid {
  requireInt('bins', bins, 1, 1024);
  const n = users.length;
  const userCount = new Int32Array(nUsers);
  const itemCount = new Int32Array(nItems);
  for (let r = 0; r < n; r++) {
    userCount[users[r]!]!++;
    itemCount[items[r]!]!++;
  }
  const userBin = balancedBins(userCount, bins, rng);
  const itemBin = balancedBins(itemCount, bins, rng);
  // the order rows are dealt to blocks in: table order, or by user and, within a user, by a seeded random
  // rank of the item (LIBMF's sort by user and shuffled item id): two stable counting sorts, much cheaper
  // than shuffling every row
  let source: Int32Array | undefined;
  if (options.byUser) {
    const rank = new Int32Array(nItems);
    for (let i = 0; i < nItems; i++) rank[i] = i;
    rng.shuffle(rank);
    const rankStart = new Int32Array(nItems + 1);
    for (let i = 0; i < nItems; i++) rankStart[rank[i]! + 1] = itemCount[i]!;
    for (let j = 0; j < nItems; j++) rankStart[j + 1] += rankStart[j]!;
    const byItem = new Int32Array(n);
    for (let r = 0; r < n; r++) byItem[rankStart[rank[items[r]!]!]!++] = r;
    const userStart = new Int32Array(nUsers + 1);
    for (let u = 0; u < nUsers; u++) userStart[u + 1] = userStart[u]! + userCount[u]!;
    source = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const r = byItem[j]!;
      source[userStart[users[r]!]!++] = r;
    }
  }
  // counting sort of the rows by block (stable, so the source order holds within a block)
  const blockStart = new Int32Array(bins * bins + 1);
  for (let r = 0; r < n; r++) blockStart[userBin[users[r]!]! * bins + itemBin[items[r]!]! + 1]!++;
  for (let b = 0; b < bins * bins; b++) blockStart[b + 1] += blockStart[b]!;
  const fill = blockStart.slice(0, bins * bins);
  const rows = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const r = source ? source[j]! : j;
    rows[fill[userBin[users[r]!]! * bins + itemBin[items[r]!]!]!++] = r;
  }
  return { bins, userBin, itemBin, rows, blockStart };
}

/** Shuffles the rows inside each block in place (a fresh within-block order each epoch; the blocks stay where they are). */
export function shuffleWithinBlocks(grid: BlockGrid, rng: RandomState): void {
  const nb = grid.bins * grid.bins;
  for (let b = 0; b < nb; b++) {
    const from = grid.blockStart[b]!;
    const to = grid.blockStart[b + 1]!;
    if (to - from > 1) rng.shuffle(grid.rows.subarray(from, to));
  }
}

/**
 * One epoch's schedule over the grid: `bins` rounds, each a list of `bins` block numbers (a · bins + b) that
 * share no user bin and no item bin, and together the rounds visit every block once. Round d holds the
 * blocks (π(a), ρ((a + d) mod bins)) of a Latin square, with π, ρ and the order of the rounds drawn from `rng`.
 * Because the blocks of a round touch disjoint rows, training them on any number of threads, in any
 * interleaving, gives exactly what training them one after another gives: results depend on the seed only.
 */
export function blockRounds(bins: number, rng: RandomState): Int32Array[] {
  const rowPerm = new Int32Array(bins);
  const colPerm = new Int32Array(bins);
  const roundOrder = new Int32Array(bins);
  for (let j = 0; j < bins; j++) {
    rowPerm[j] = j;
    colPerm[j] = j;
    roundOrder[j] = j;
  }
  rng.shuffle(rowPerm);
  rng.shuffle(colPerm);
  rng.shuffle(roundOrder);
  const rounds: Int32Array[] = [];
  for (let j = 0; j < bins; j++) {
    const d = roundOrder[j]!;
    const round = new Int32Array(bins);
    for (let a = 0; a < bins; a++) round[a] = rowPerm[a]! * bins + colPerm[(a + d) % bins]!;
    rounds.push(round);
  }
  return rounds;
}
