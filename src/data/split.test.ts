import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdMap } from './id-map.js';
import type { Ratings } from './ratings.js';
import { joinSplit, randomSplit, temporalSplit, userHoldoutSplit, coldCounts, type SplitResult } from './split.js';

type Row = [user: number, item: number, rating: number, ts: number];

/** Builds Ratings from raw rows, optionally on given maps. */
function build(rows: Row[], maps?: { userIds: IdMap; itemIds: IdMap }, withTime = true): Ratings {
  const userIds = maps?.userIds ?? new IdMap();
  const itemIds = maps?.itemIds ?? new IdMap();
  const r: Ratings = {
    users: Int32Array.from(rows.map((x) => userIds.add(x[0]))),
    items: Int32Array.from(rows.map((x) => itemIds.add(x[1]))),
    ratings: Float32Array.from(rows.map((x) => x[2])),
    userIds,
    itemIds,
  };
  return withTime ? { ...r, timestamps: Float64Array.from(rows.map((x) => x[3])) } : r;
}

/** Raw rows of a table, in its order. */
function raw(r: Ratings): Row[] {
  return Array.from(r.ratings, (v, k) => [
    r.userIds.idOf(r.users[k]!) as number,
    r.itemIds.idOf(r.items[k]!) as number,
    v,
    r.timestamps ? r.timestamps[k]! : NaN,
  ]);
}

// Ten ratings by four users; timestamps tie at 7 (rows 2, 4, 8) to test the tie rule.
const TEN: Row[] = [
  [1, 10, 4, 1],
  [1, 20, 3, 2],
  [1, 30, 5, 7],
  [2, 10, 2, 3],
  [2, 20, 4, 7],
  [2, 40, 1, 4],
  [3, 10, 5, 5],
  [3, 20, 3, 6],
  [3, 30, 4, 7],
  [4, 50, 2, 0],
];
const rowsOf = (idx: number[]): Row[] => idx.map((k) => TEN[k]!);

test('randomSplit: numpy RandomState(42).permutation(10) = [8,1,5,0,7,...] puts rows 1 and 8 in valid, file order kept', () => {
  const s = randomSplit(build(TEN), { validPct: 0.2, seed: 42 });
  assert.equal(s.method, 'random');
  assert.deepEqual(raw(s.valid), rowsOf([1, 8]));
  assert.deepEqual(raw(s.train), rowsOf([0, 2, 3, 4, 5, 6, 7, 9]));
  assert.deepEqual(s.coldUsers, { ids: 0, ratings: 0 });
  assert.deepEqual(s.coldItems, { ids: 0, ratings: 0 });
  assert.equal(s.cold, 'keep');
  assert.equal(s.dropped, 0);
  assert.equal(s.train.userIds, s.valid.userIds, 'both parts share the maps');
});

test('randomSplit: the seed and validPct change the split; the same seed gives the same split', () => {
  const a = randomSplit(build(TEN), { seed: 1, validPct: 0.3 });
  const b = randomSplit(build(TEN), { seed: 1, validPct: 0.3 });
  const c = randomSplit(build(TEN), { seed: 2, validPct: 0.3 });
  assert.equal(a.valid.ratings.length, 3);
  assert.deepEqual(raw(a.valid), raw(b.valid));
  assert.notDeepEqual(raw(a.valid), raw(c.valid));
  assert.equal(randomSplit(build(TEN), { seed: 1, validPct: 0.5 }).valid.ratings.length, 5);
});

test('bad options give exact messages', () => {
  const r = build(TEN);
  const msg = (v: number) =>
    `validPct must be a number greater than 0 and less than 1 (the fraction of ratings for validation, e.g. 0.2), got ${v}`;
  for (const v of [0, 1, -0.1, 1.5, NaN]) {
    assert.throws(() => randomSplit(r, { validPct: v }), { code: 'INVALID_OPTION', message: msg(v) });
  }
  assert.throws(() => temporalSplit(r, { validPct: 2 }), { message: msg(2) });
  assert.throws(() => userHoldoutSplit(r, { validPct: 0 }), { message: msg(0) });
  assert.throws(() => randomSplit(r, { seed: -1 }), { code: 'INVALID_OPTION', message: 'seed must be an integer from 0 to 4294967295, got -1' });
  assert.throws(() => randomSplit(r, { seed: 1.5 }), { message: 'seed must be an integer from 0 to 4294967295, got 1.5' });
  assert.throws(() => randomSplit(r, { cold: 'skip' as 'keep' }), { message: `cold must be 'keep' or 'drop', got "skip"` });
  assert.throws(() => userHoldoutSplit(r, { k: 0 }), { message: 'k must be an integer >= 1, got 0' });
  assert.throws(() => userHoldoutSplit(r, { k: 1, validPct: 0.2 }), {
    message: 'give either k (ratings per user) or validPct (fraction per user) for a per-user holdout, not both',
  });
  assert.throws(() => randomSplit(build([])), { message: 'cannot split an empty ratings table: load a file with at least one rating' });
  assert.throws(() => temporalSplit(build(TEN, undefined, false)), {
    code: 'INVALID_OPTION',
    message:
      'a temporal split needs timestamps, but these ratings have none: use a random or per-user split, or a file with a timestamp column',
  });
});

test('temporalSplit: the latest 20% globally; equal timestamps count the later row as later', () => {
  // Sorted by (ts, row): 9,0,1,3,5,6,7, then ts 7 at rows 2,4,8 -> the latest two are rows 4 and 8.
  const s = temporalSplit(build(TEN), { validPct: 0.2 });
  assert.equal(s.method, 'time');
  assert.deepEqual(raw(s.valid), rowsOf([4, 8]));
  assert.deepEqual(raw(s.train), rowsOf([0, 1, 2, 3, 5, 6, 7, 9]));
  const s3 = temporalSplit(build(TEN), { validPct: 0.3 });
  assert.deepEqual(raw(s3.valid), rowsOf([2, 4, 8]));
});

test('temporalSplit matches a plain sort by (timestamp, row) on data full of ties', () => {
  const rows: Row[] = [];
  for (let k = 0; k < 500; k++) rows.push([k % 17, k % 23, 3, (k * 7919) % 13]);
  for (const validPct of [0.01, 0.1, 0.33, 0.5, 0.9]) {
    const cut = Math.floor(rows.length * validPct);
    const order = rows.map((_, k) => k).sort((a, b) => rows[a]![3] - rows[b]![3] || a - b);
    const expected = order.slice(rows.length - cut).sort((a, b) => a - b);
    assert.deepEqual(raw(temporalSplit(build(rows), { validPct }).valid), expected.map((k) => rows[k]!), `validPct ${validPct}`);
  }
  const bad = build(TEN);
  bad.timestamps![3] = NaN;
  assert.throws(() => temporalSplit(bad), {
    message: 'a temporal split needs a timestamp on every rating, but rating 4 has NaN: fix the file or use a random split',
  });
});

test("temporalSplit perUser: each user's latest floor(n_u * validPct); a user with one rating stays in train", () => {
  const s = temporalSplit(build(TEN), { validPct: 0.5, perUser: true });
  assert.equal(s.method, 'user-time');
  // u1 rows 0,1,2 (ts 1,2,7) -> row 2; u2 rows 3,4,5 (ts 3,7,4) -> row 4; u3 rows 6,7,8 -> row 8; u4 keeps row 9.
  assert.deepEqual(raw(s.valid), rowsOf([2, 4, 8]));
  assert.ok('usersHeldOut' in s);
  assert.equal(s.usersHeldOut, 3);
  assert.equal(s.usersKeptInTrain, 1);
  // minTrain 3 keeps every user (each has at most 3 ratings) wholly in train.
  const none = temporalSplit(build(TEN), { validPct: 0.5, perUser: true, minTrain: 3 });
  assert.equal(none.valid.ratings.length, 0);
});

test('userHoldoutSplit k=1: rows picked by RandomState(seed).permutation(n_u) per eligible user (numpy-checked)', () => {
  // numpy: RandomState(42) -> permutation(3) x3 = [0 1 2], [1 2 0], [0 1 2] -> rows 0, 3+1, 6+0.
  const s42 = userHoldoutSplit(build(TEN), { k: 1, seed: 42 });
  assert.equal(s42.method, 'user');
  assert.deepEqual(raw(s42.valid), rowsOf([0, 4, 6]));
  assert.equal(s42.usersHeldOut, 3);
  assert.equal(s42.usersKeptInTrain, 1, 'user 4 has one rating and keeps it');
  // numpy: RandomState(7) -> [2 1 0], [0 1 2], [2 1 0] -> rows 2, 3, 8.
  const s7 = userHoldoutSplit(build(TEN), { k: 1, seed: 7 });
  assert.deepEqual(raw(s7.valid), rowsOf([2, 3, 8]));
  // k=2 leaves one train rating to each of users 1-3; minTrain 2 then keeps them all in train.
  assert.equal(userHoldoutSplit(build(TEN), { k: 2 }).valid.ratings.length, 6);
  assert.equal(userHoldoutSplit(build(TEN), { k: 2, minTrain: 2 }).valid.ratings.length, 0);
});

test('userHoldoutSplit by fraction: floor(n_u * validPct) per user', () => {
  const s = userHoldoutSplit(build(TEN), { validPct: 0.5, seed: 42 });
  assert.equal(s.valid.ratings.length, 3);
  assert.equal(s.usersKeptInTrain, 1);
  assert.equal(userHoldoutSplit(build(TEN), { validPct: 0.2 }).valid.ratings.length, 0, 'floor(3 * 0.2) = 0 for everyone');
});

const TRAIN: Row[] = [
  [1, 10, 4, 1],
  [1, 20, 3, 2],
  [2, 10, 5, 3],
];
const VALID: Row[] = [
  [1, 30, 2, 4], // cold item 30
  [3, 10, 4, 5], // cold user 3
  [3, 30, 1, 6], // cold user and cold item
  [2, 20, 5, 7], // both known
];

function checkJoined(s: SplitResult, dropped: boolean): void {
  assert.equal(s.method, 'files');
  assert.deepEqual(s.coldUsers, { ids: 1, ratings: 2 });
  assert.deepEqual(s.coldItems, { ids: 1, ratings: 2 });
  assert.deepEqual(raw(s.train), TRAIN);
  if (dropped) {
    assert.equal(s.dropped, 3);
    assert.deepEqual(raw(s.valid), [VALID[3]]);
  } else {
    assert.equal(s.dropped, 0);
    assert.deepEqual(raw(s.valid), VALID);
  }
  // valid-only ids come after train's in the shared maps.
  assert.deepEqual(s.train.userIds.ids(), [1, 2, 3]);
  assert.deepEqual(s.train.itemIds.ids(), [10, 20, 30]);
  assert.equal(s.train.itemIds, s.valid.itemIds);
}

test('joinSplit on tables read with one pair of IdMaps: cold counts, keep and drop', () => {
  const maps = { userIds: new IdMap(), itemIds: new IdMap() };
  const train = build(TRAIN, maps);
  const valid = build(VALID, maps);
  checkJoined(joinSplit(train, valid), false);
  checkJoined(joinSplit(train, valid, { cold: 'drop' }), true);
  assert.deepEqual(coldCounts(train, valid), { coldUsers: { ids: 1, ratings: 2 }, coldItems: { ids: 1, ratings: 2 } });
});

test('joinSplit on tables with their own IdMaps re-indexes valid and leaves the inputs alone', () => {
  const train = build(TRAIN);
  const valid = build([[9, 90, 1, 0], ...VALID]); // valid's own maps see 9 and 90 first
  const s = joinSplit(train, valid);
  assert.deepEqual(s.coldUsers, { ids: 2, ratings: 3 });
  assert.deepEqual(s.coldItems, { ids: 2, ratings: 3 });
  assert.deepEqual(raw(s.valid), [[9, 90, 1, 0], ...VALID]);
  assert.deepEqual(s.valid.userIds.ids(), [1, 2, 9, 3]);
  assert.deepEqual(train.userIds.ids(), [1, 2], 'train maps unchanged');
  assert.throws(() => coldCounts(train, valid), { message: 'train and valid must share their IdMaps to count cold ids: build the pair with joinSplit' });
});

test('random split with cold drop: counts worked out by hand', () => {
  // RandomState(42).permutation(10)[:7] = 8,1,5,0,7,2,9 -> valid rows 0,1,2,5,7,8,9; train rows 3,4,6.
  // Train knows users 2,3 and items 10,20. Cold users: 1 (rows 0,1,2), 4 (row 9). Cold items: 30 (rows 2,8),
  // 40 (row 5), 50 (row 9). Only row 7 (user 3, item 20) has neither.
  const keep = randomSplit(build(TEN), { validPct: 0.7, seed: 42 });
  assert.deepEqual(keep.coldUsers, { ids: 2, ratings: 4 });
  assert.deepEqual(keep.coldItems, { ids: 3, ratings: 4 });
  assert.equal(keep.valid.ratings.length, 7);
  const drop = randomSplit(build(TEN), { validPct: 0.7, seed: 42, cold: 'drop' });
  assert.deepEqual(drop.coldUsers, keep.coldUsers, 'counts are taken before the policy');
  assert.equal(drop.dropped, 6);
  assert.deepEqual(raw(drop.valid), rowsOf([7]));
  assert.deepEqual(raw(drop.train), rowsOf([3, 4, 6]));
});

// --- the shared fixed splits, made by numpy (make_split.py) -------------------------------------

const DATA = process.env.COLLAB_DATA_DIR;

/** Reads a small delimited ratings file into Ratings (test-only reader). */
function readRatings(path: string, sep: string): Ratings {
  const rows: Row[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const t = line.replace(/\r$/, '');
    if (t === '' || !/^\d/.test(t)) continue;
    const f = t.split(sep);
    rows.push([Number(f[0]), Number(f[1]), Number(f[2]), Number(f[3])]);
  }
  return build(rows);
}

function assertSameAsFiles(s: SplitResult, dir: string): void {
  const train = readRatings(join(dir, 'train.csv'), ',');
  const valid = readRatings(join(dir, 'valid.csv'), ',');
  assert.equal(s.train.ratings.length, train.ratings.length);
  assert.equal(s.valid.ratings.length, valid.ratings.length);
  assert.deepEqual(raw(s.train), raw(train));
  assert.deepEqual(raw(s.valid), raw(valid));
}

test('randomSplit(seed 42) reproduces splits/ml-latest-small-seed42 row for row', { skip: !DATA && 'COLLAB_DATA_DIR unset' }, () => {
  const r = readRatings(join(DATA!, 'ml-latest-small', 'ratings.csv'), ',');
  const s = randomSplit(r, { seed: 42, validPct: 0.2 });
  assert.equal(s.valid.ratings.length, 20167);
  assertSameAsFiles(s, join(DATA!, 'splits', 'ml-latest-small-seed42'));
});

test('randomSplit(seed 42) reproduces splits/ml-100k-seed42 row for row', { skip: !DATA && 'COLLAB_DATA_DIR unset' }, () => {
  const r = readRatings(join(DATA!, 'ml-100k', 'u.data'), '\t');
  const s = randomSplit(r, { seed: 42 });
  assert.equal(s.train.ratings.length, 80000);
  assertSameAsFiles(s, join(DATA!, 'splits', 'ml-100k-seed42'));
});

test('joinSplit of ml-100k u1.base/u1.test: every user is in both, cold items are counted', { skip: !DATA && 'COLLAB_DATA_DIR unset' }, () => {
  const train = readRatings(join(DATA!, 'ml-100k', 'u1.base'), '\t');
  const valid = readRatings(join(DATA!, 'ml-100k', 'u1.test'), '\t');
  const s = joinSplit(train, valid);
  assert.equal(s.train.ratings.length, 80000);
  assert.equal(s.valid.ratings.length, 20000);
  assert.equal(s.train.userIds.size, 943);
  assert.equal(s.train.itemIds.size, 1682);
  const drop = joinSplit(train, valid, { cold: 'drop' });
  assert.equal(drop.valid.ratings.length, 20000 - drop.dropped);
  assert.equal(drop.dropped, s.coldUsers.ratings + s.coldItems.ratings - overlap(s));
});

/** Valid ratings with both a cold user and a cold item. */
function overlap(s: SplitResult): number {
  const u = new Uint8Array(s.train.userIds.size);
  const i = new Uint8Array(s.train.itemIds.size);
  for (const x of s.train.users) u[x] = 1;
  for (const x of s.train.items) i[x] = 1;
  let n = 0;
  for (let k = 0; k < s.valid.ratings.length; k++) if (!u[s.valid.users[k]!] && !i[s.valid.items[k]!]) n++;
  return n;
}
