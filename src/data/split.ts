import { CollabError, requireInt } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import { IdMap } from './id-map.js';
import { selectRows, type Ratings } from './ratings.js';

/**
 * What happens to validation ratings whose user or item never occurs in train ("cold"):
 * 'keep' leaves them in valid (a model predicts its fallback for them, e.g. the global mean plus the
 * known bias), 'drop' removes them from valid and counts them in `SplitResult.dropped`.
 */
export type ColdPolicy = 'keep' | 'drop';

/** How a split was made. */
export type SplitMethod = 'random' | 'time' | 'user-time' | 'user' | 'stratified' | 'files';

/** Distinct ids seen in valid but not in train, and how many valid ratings they have. */
export interface ColdCount {
  /** Distinct cold ids. */
  ids: number;
  /** Valid ratings that have a cold id (counted before the cold policy is applied). */
  ratings: number;
}

/**
 * A train/valid split. Both tables share the source's IdMaps, so dense indices agree between them
 * and the maps also hold ids that only occur in valid (as fastai's vocabulary does).
 */
export interface SplitResult {
  method: SplitMethod;
  train: Ratings;
  /** Validation ratings, after the cold policy. */
  valid: Ratings;
  /** Users in valid with no rating in train. */
  coldUsers: ColdCount;
  /** Items in valid with no rating in train. */
  coldItems: ColdCount;
  /** The cold policy that was applied. */
  cold: ColdPolicy;
  /** Valid ratings removed by cold 'drop' (a rating with a cold user and a cold item counts once); 0 under 'keep'. */
  dropped: number;
}

/** The result of a per-user split: who had enough ratings to give some to valid. */
export interface UserSplitResult extends SplitResult {
  /** Users with at least one rating moved to valid. */
  usersHeldOut: number;
  /** Users with too few ratings, kept wholly in train. */
  usersKeptInTrain: number;
}

/** Options shared by every split. */
export interface ColdOptions {
  /** Cold user/item policy; default 'keep'. */
  cold?: ColdPolicy;
}

/** Options of `randomSplit`. */
export interface RandomSplitOptions extends ColdOptions {
  /** Fraction of ratings put in valid, in (0, 1); default 0.2. */
  validPct?: number;
  /** Seed of numpy's RandomState, an integer in [0, 2^32); default 42. */
  seed?: number;
}

/** Options of `temporalSplit`. */
export interface TemporalSplitOptions extends ColdOptions {
  /** Fraction of ratings put in valid, in (0, 1); default 0.2. */
  validPct?: number;
  /**
   * false (default): the latest validPct of all ratings go to valid. true: each user's latest
   * floor(n_u * validPct) ratings go to valid, and users left with fewer than `minTrain` train
   * ratings stay wholly in train.
   */
  perUser?: boolean;
  /** With perUser, the fewest train ratings a user must keep to give any to valid; default 1. */
  minTrain?: number;
}

/** Options of `userHoldoutSplit`. */
export interface UserHoldoutOptions extends ColdOptions {
  /** Hold out exactly k ratings per user; default unset (use validPct). */
  k?: number;
  /** When k is unset, hold out floor(n_u * validPct) of each user's ratings, validPct in (0, 1); default 0.2. */
  validPct?: number;
  /** Seed of numpy's RandomState, an integer in [0, 2^32); default 42. */
  seed?: number;
  /** The fewest train ratings a user must keep to give any to valid; default 1. */
  minTrain?: number;
}

/** Checks validPct is a number strictly between 0 and 1. */
export function checkValidPct(validPct: number): number {
  if (typeof validPct !== 'number' || !Number.isFinite(validPct) || validPct <= 0 || validPct >= 1) {
    throw new CollabError(
      'INVALID_OPTION',
      `validPct must be a number greater than 0 and less than 1 (the fraction of ratings for validation, e.g. 0.2), got ${validPct}`,
      { field: 'validPct' },
    );
  }
  return validPct;
}

function checkSeed(seed: number): number {
  return requireInt('seed', seed, 0, 0xffffffff);
}

function checkCold(cold: ColdPolicy): ColdPolicy {
  if (cold !== 'keep' && cold !== 'drop') {
    throw new CollabError('INVALID_OPTION', `cold must be 'keep' or 'drop', got ${JSON.stringify(cold)}`, { field: 'cold' });
  }
  return cold;
}

function checkNotEmpty(r: Ratings): number {
  const n = r.ratings.length;
  if (n === 0) {
    throw new CollabError('INVALID_OPTION', 'cannot split an empty ratings table: load a file with at least one rating', {
      field: 'ratings',
    });
  }
  return n;
}

/**
 * Seeded random split, the same on every machine: valid holds the rows listed first in
 * numpy's `RandomState(seed).permutation(n)` (floor(n * validPct) of them); both parts keep the
 * source's row order. This reproduces `np.random.RandomState(seed).permutation(len(rows))[:cut]`
 * (the shared make_split.py) row for row.
 */
export function randomSplit(r: Ratings, options: RandomSplitOptions = {}): SplitResult {
  const validPct = checkValidPct(options.validPct ?? 0.2);
  const seed = checkSeed(options.seed ?? 42);
  const cold = checkCold(options.cold ?? 'keep');
  const n = checkNotEmpty(r);
  const cut = Math.floor(n * validPct);
  const perm = new RandomState(seed).permutation(n);
  const isValid = new Uint8Array(n);
  for (let k = 0; k < cut; k++) isValid[perm[k]!] = 1;
  return finish('random', r, isValid, cold);
}

/**
 * Temporal split by timestamp: valid holds the latest floor(n * validPct) ratings (ties in time are
 * broken by row order, a later row counting as later); with `perUser`, each user's latest share.
 * Needs timestamps.
 */
export function temporalSplit(r: Ratings, options: TemporalSplitOptions = {}): SplitResult | UserSplitResult {
  const validPct = checkValidPct(options.validPct ?? 0.2);
  const cold = checkCold(options.cold ?? 'keep');
  const minTrain = requireInt('minTrain', options.minTrain ?? 1, 0);
  const n = checkNotEmpty(r);
  const ts = r.timestamps;
  if (!ts) {
    throw new CollabError(
      'INVALID_OPTION',
      'a temporal split needs timestamps, but these ratings have none: use a random or per-user split, or a file with a timestamp column',
      { field: 'timestamps' },
    );
  }
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(ts[k]!)) {
      throw new CollabError('INVALID_OPTION', `a temporal split needs a timestamp on every rating, but rating ${k + 1} has ${ts[k]}: fix the file or use a random split`, {
        field: 'timestamps',
      });
    }
  }
  if (!options.perUser) {
    return finish('time', r, latestRows(ts, Math.floor(n * validPct)), cold);
  }
  const { isValid, heldOut, kept } = holdOutPerUser(r, minTrain, (nu) => Math.floor(nu * validPct), (userRows, h, valid) => {
    // the user's h latest ratings
    const order = timeOrder(ts, userRows);
    for (let k = order.length - h; k < order.length; k++) valid[order[k]!] = 1;
  });
  return { ...finish('user-time', r, isValid, cold), usersHeldOut: heldOut, usersKeptInTrain: kept };
}

/**
 * Per-user holdout for ranking evaluation: each user gives k (or floor(n_u * validPct)) of their
 * ratings to valid, chosen at random. One RandomState(seed) serves all users: visiting users in
 * dense-index order (first appearance), each eligible user with n_u ratings (in source order) draws
 * `permutation(n_u)` and holds out the rows at its first h positions; ineligible users draw nothing.
 * Users who would keep fewer than `minTrain` train ratings (or would give none) stay wholly in train.
 */
export function userHoldoutSplit(r: Ratings, options: UserHoldoutOptions = {}): UserSplitResult {
  const k = options.k === undefined ? undefined : requireInt('k', options.k, 1);
  const validPct = k === undefined ? checkValidPct(options.validPct ?? 0.2) : 0;
  if (k !== undefined && options.validPct !== undefined) {
    throw new CollabError('INVALID_OPTION', 'give either k (ratings per user) or validPct (fraction per user) for a per-user holdout, not both', {
      field: 'k',
    });
  }
  const seed = checkSeed(options.seed ?? 42);
  const cold = checkCold(options.cold ?? 'keep');
  const minTrain = requireInt('minTrain', options.minTrain ?? 1, 0);
  checkNotEmpty(r);
  const rs = new RandomState(seed);
  const { isValid, heldOut, kept } = holdOutPerUser(r, minTrain, (nu) => k ?? Math.floor(nu * validPct), (userRows, h, valid) => {
    // the rows at the first h positions of a permutation of the user's ratings
    const perm = rs.permutation(userRows.length);
    for (let j = 0; j < h; j++) valid[userRows[perm[j]!]!] = 1;
  });
  return { ...finish('user', r, isValid, cold), usersHeldOut: heldOut, usersKeptInTrain: kept };
}

/** Options of `stratifiedSplit`. */
export interface StratifiedSplitOptions extends ColdOptions {
  /** Fraction of each user's ratings kept in train, in (0, 1); default 0.75. */
  ratio?: number;
  /** Seed of numpy's RandomState, reseeded for every user; default 42. */
  seed?: number;
}

/** Python's round(): to the nearest integer, halves to the even neighbour (round(16.5) is 16). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Microsoft Recommenders' `python_stratified_split(data, ratio, seed)` row for row: each user's
 * ratings (in source order) are shuffled by `sample(frac=1, random_state=seed)`, i.e. a FRESH
 * `RandomState(seed).permutation(n_u)` per user, and the first round(ratio · n_u) (Python's
 * half-to-even round) go to train, the rest to valid. Every user keeps at least one train rating when
 * round(ratio · n_u) ≥ 1; a user with one rating and ratio < 0.5 goes wholly to valid, as there.
 */
export function stratifiedSplit(r: Ratings, options: StratifiedSplitOptions = {}): UserSplitResult {
  const ratio = options.ratio ?? 0.75;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio < 1)) {
    throw new CollabError('INVALID_OPTION', `ratio must be a number greater than 0 and less than 1 (the fraction of each user's ratings kept in train, e.g. 0.75), got ${ratio}`, {
      field: 'ratio',
    });
  }
  const seed = checkSeed(options.seed ?? 42);
  const cold = checkCold(options.cold ?? 'keep');
  const n = checkNotEmpty(r);
  const { start, rows } = groupByUser(r);
  const isValid = new Uint8Array(n);
  let heldOut = 0;
  let kept = 0;
  for (let u = 0; u + 1 < start.length; u++) {
    const nu = start[u + 1]! - start[u]!;
    if (nu === 0) continue;
    const nTrain = roundHalfEven(ratio * nu);
    if (nTrain >= nu) {
      kept++;
      continue;
    }
    heldOut++;
    const perm = new RandomState(seed).permutation(nu);
    const base = start[u]!;
    for (let j = nTrain; j < nu; j++) isValid[rows[base + perm[j]!]!] = 1;
  }
  return { ...finish('stratified', r, isValid, cold), usersHeldOut: heldOut, usersKeptInTrain: kept };
}

/**
 * A predefined split (ml-100k's u1.base/u1.test, a train.csv/valid.csv pair) as a SplitResult.
 * When both tables already share their IdMaps (a loader read them with one pair of maps, ids first
 * seen in valid appended), they are used as they are. Otherwise valid is re-indexed onto copies of
 * train's maps, with valid-only ids appended after train's; the inputs are not changed.
 */
export function joinSplit(train: Ratings, valid: Ratings, options: ColdOptions = {}): SplitResult {
  const cold = checkCold(options.cold ?? 'keep');
  let t = train;
  let v = valid;
  if (train.userIds !== valid.userIds || train.itemIds !== valid.itemIds) {
    const userIds = IdMap.fromIds(train.userIds.ids());
    const itemIds = IdMap.fromIds(train.itemIds.ids());
    t = { ...train, userIds, itemIds };
    v = {
      ...valid,
      users: reindex(valid.users, valid.userIds, userIds),
      items: reindex(valid.items, valid.itemIds, itemIds),
      userIds,
      itemIds,
    };
  }
  if (Boolean(t.timestamps) !== Boolean(v.timestamps)) {
    // Mixed tables cannot be concatenated later; drop the odd column rather than invent times.
    t = withoutTimestamps(t);
    v = withoutTimestamps(v);
  }
  const nUsers = t.userIds.size;
  const nItems = t.itemIds.size;
  const userInTrain = presence(t.users, nUsers);
  const itemInTrain = presence(t.items, nItems);
  return applyCold('files', t, v, userInTrain, itemInTrain, cold);
}

/** Counts cold users/items of a train/valid pair on shared maps (no policy applied). */
export function coldCounts(train: Ratings, valid: Ratings): { coldUsers: ColdCount; coldItems: ColdCount } {
  if (train.userIds !== valid.userIds || train.itemIds !== valid.itemIds) {
    throw new CollabError('INVALID_OPTION', 'train and valid must share their IdMaps to count cold ids: build the pair with joinSplit', {
      field: 'valid',
    });
  }
  const userInTrain = presence(train.users, train.userIds.size);
  const itemInTrain = presence(train.items, train.itemIds.size);
  return {
    coldUsers: countCold(valid.users, userInTrain),
    coldItems: countCold(valid.items, itemInTrain),
  };
}

function finish(method: SplitMethod, r: Ratings, isValid: Uint8Array, cold: ColdPolicy): SplitResult {
  const n = isValid.length;
  let nValid = 0;
  for (let k = 0; k < n; k++) nValid += isValid[k]!;
  const trainRows = new Int32Array(n - nValid);
  const validRows = new Int32Array(nValid);
  let a = 0;
  let b = 0;
  for (let k = 0; k < n; k++) {
    if (isValid[k]) validRows[b++] = k;
    else trainRows[a++] = k;
  }
  const train = selectRows(r, trainRows);
  const valid = selectRows(r, validRows);
  const userInTrain = presence(train.users, r.userIds.size);
  const itemInTrain = presence(train.items, r.itemIds.size);
  return applyCold(method, train, valid, userInTrain, itemInTrain, cold);
}

function applyCold(
  method: SplitMethod,
  train: Ratings,
  valid: Ratings,
  userInTrain: Uint8Array,
  itemInTrain: Uint8Array,
  cold: ColdPolicy,
): SplitResult {
  const coldUsers = countCold(valid.users, userInTrain);
  const coldItems = countCold(valid.items, itemInTrain);
  if (cold === 'keep' || (coldUsers.ratings === 0 && coldItems.ratings === 0)) {
    return { method, train, valid, coldUsers, coldItems, cold, dropped: 0 };
  }
  const nv = valid.ratings.length;
  const warm = (k: number): boolean => userInTrain[valid.users[k]!] === 1 && itemInTrain[valid.items[k]!] === 1;
  let nKeep = 0;
  for (let k = 0; k < nv; k++) if (warm(k)) nKeep++;
  const keep = new Int32Array(nKeep);
  for (let k = 0, j = 0; k < nv; k++) if (warm(k)) keep[j++] = k;
  return { method, train, valid: selectRows(valid, keep), coldUsers, coldItems, cold, dropped: nv - nKeep };
}

/** 1 for every dense index that occurs in `idx` (indices may be < size). */
function presence(idx: Int32Array, size: number): Uint8Array {
  let max = size;
  for (let k = 0; k < idx.length; k++) if (idx[k]! >= max) max = idx[k]! + 1;
  const seen = new Uint8Array(max);
  for (let k = 0; k < idx.length; k++) seen[idx[k]!] = 1;
  return seen;
}

function countCold(idx: Int32Array, inTrain: Uint8Array): ColdCount {
  const counted = new Uint8Array(inTrain.length + 1);
  let ids = 0;
  let ratings = 0;
  for (let k = 0; k < idx.length; k++) {
    const d = idx[k]!;
    if (d < inTrain.length && inTrain[d]) continue;
    ratings++;
    if (!counted[d]) {
      counted[d] = 1;
      ids++;
    }
  }
  return { ids, ratings };
}

function reindex(idx: Int32Array, from: IdMap, to: IdMap): Int32Array {
  const map = new Int32Array(from.size);
  for (let d = 0; d < from.size; d++) map[d] = to.add(from.idOf(d));
  const out = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = map[idx[k]!]!;
  return out;
}

function withoutTimestamps(r: Ratings): Ratings {
  if (!r.timestamps) return r;
  const { timestamps: _dropped, ...rest } = r;
  return rest;
}

/**
 * Marks the `cut` latest rows by (timestamp, row). A native sort of a copy of the timestamps finds the
 * cut-off time T; every row after T is in, and of the rows at exactly T the last ones in row order.
 */
function latestRows(ts: Float64Array, cut: number): Uint8Array {
  const n = ts.length;
  const isValid = new Uint8Array(n);
  if (cut === 0) return isValid;
  const T = Float64Array.from(ts).sort()[n - cut]!;
  let after = 0;
  for (let k = 0; k < n; k++) if (ts[k]! > T) after++;
  let ties = cut - after;
  for (let k = n - 1; k >= 0; k--) {
    const t = ts[k]!;
    if (t > T) isValid[k] = 1;
    else if (t === T && ties > 0) {
      isValid[k] = 1;
      ties--;
    }
  }
  return isValid;
}

/** `rows` sorted by (timestamp, row), oldest first (a copy). */
function timeOrder(ts: Float64Array, rows: Int32Array): Int32Array {
  const order = Int32Array.from(rows);
  order.sort((a, b) => ts[a]! - ts[b]! || a - b);
  return order;
}

/**
 * The per-user holdout both per-user splits share: users in dense-index order; a user with n_u ratings
 * gives h = holdCount(n_u) of them to valid through `pick(userRows, h, isValid)` (userRows in source
 * order), unless h is 0 or fewer than `minTrain` would stay in train (then the user is kept wholly in
 * train and `pick` is not called, so a random pick draws nothing for them).
 */
function holdOutPerUser(
  r: Ratings,
  minTrain: number,
  holdCount: (nu: number) => number,
  pick: (userRows: Int32Array, h: number, isValid: Uint8Array) => void,
): { isValid: Uint8Array; heldOut: number; kept: number } {
  const { start, rows } = groupByUser(r);
  const isValid = new Uint8Array(r.users.length);
  let heldOut = 0;
  let kept = 0;
  for (let u = 0; u + 1 < start.length; u++) {
    const nu = start[u + 1]! - start[u]!;
    if (nu === 0) continue;
    const h = holdCount(nu);
    if (h === 0 || nu - h < minTrain) {
      kept++;
      continue;
    }
    heldOut++;
    pick(rows.subarray(start[u]!, start[u + 1]!), h, isValid);
  }
  return { isValid, heldOut, kept };
}

/** Rows grouped by dense user index, source order kept within a user (a counting sort). */
function groupByUser(r: Ratings): { start: Int32Array; rows: Int32Array } {
  const n = r.users.length;
  let nUsers = r.userIds.size;
  for (let k = 0; k < n; k++) if (r.users[k]! >= nUsers) nUsers = r.users[k]! + 1;
  const start = new Int32Array(nUsers + 1);
  for (let k = 0; k < n; k++) start[r.users[k]! + 1]!++;
  for (let u = 0; u < nUsers; u++) start[u + 1]! += start[u]!;
  const fill = start.slice(0, nUsers);
  const rows = new Int32Array(n);
  for (let k = 0; k < n; k++) rows[fill[r.users[k]!]!++] = k;
  return { start, rows };
}
