import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CollabError } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import { loadDataset } from '../data/load.js';
import type { Ratings } from '../data/ratings.js';
import { randomSplit, stratifiedSplit, temporalSplit, userHoldoutSplit, type ColdPolicy, type SplitResult, type UserSplitResult } from '../data/split.js';
import { writeFileAtomic } from '../core/atomic.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface SplitFlags extends GlobalFlags {
  out: string;
  validPct?: string;
  seed?: string;
  by?: string;
  perUser?: boolean;
  byUser?: string;
  stratified?: boolean;
  holdoutK?: string;
  minTrain?: string;
  cold?: string;
  dataDir?: string;
  skipBadRows?: boolean;
}

/** Adds `collab split <dataset-or-file> --out DIR` to the program. */
export function registerSplitCommand(program: Command): void {
  const cmd = program
    .command('split')
    .description(
      'split ratings into DIR/train.csv and DIR/valid.csv (userId,movieId,rating,timestamp; raw ids): seeded random (numpy-compatible), by time, or a per-user holdout',
    )
    .argument('<dataset-or-file>', 'a dataset name (ml-100k, ml-latest-small, ...), a dataset folder or a ratings file')
    .requiredOption('--out <dir>', 'folder to write train.csv and valid.csv into (created if missing)')
    .addOption(new Option('--valid-pct <fraction>', 'fraction of ratings (of each user\'s, for --by user / --per-user) put in valid').default('0.2'))
    .addOption(new Option('--seed <n>', 'seed of the numpy-compatible RandomState (random and per-user splits)').default('42'))
    .addOption(new Option('--by <how>', 'random: seeded random rows; time: the latest ratings; user: a per-user holdout').choices(['random', 'time', 'user']).default('random'))
    .addOption(new Option('--per-user', 'with --by time: each user\'s latest ratings instead of the latest overall'))
    .addOption(new Option('--by-user <fraction>', 'per-user holdout keeping this fraction of each user\'s ratings in train (implies --by user)'))
    .addOption(
      new Option(
        '--stratified',
        "with --by-user: Microsoft Recommenders' python_stratified_split (each user's ratings shuffled by a fresh RandomState(seed), the first round(fraction·n) kept in train)",
      ),
    )
    .addOption(new Option('--holdout-k <k>', 'per-user holdout of exactly k ratings per user (implies --by user)'))
    .addOption(new Option('--min-train <n>', 'per-user splits: users who would keep fewer train ratings than this stay wholly in train').default('1'))
    .addOption(new Option('--cold <policy>', 'valid ratings of users/items absent from train: keep them (models fall back) or drop them').choices(['keep', 'drop']).default('keep'))
    .addOption(new Option('--data-dir <dir>', 'folder holding unpacked datasets, looked at first (default: $COLLAB_DATA_DIR)'))
    .addOption(new Option('--skip-bad-rows', 'count malformed rows instead of stopping at the first'));
  withExamples(
    withCommonFlags(cmd),
    'collab split ml-latest-small --out splits/mls-42',
    'collab split ml-100k --out splits/ml-100k-time --by time --valid-pct 0.1',
    'collab split ratings.csv --out splits/holdout --holdout-k 5 --cold drop --json',
    'collab split ml-100k --out splits/ml-100k-strat --by-user 0.75 --stratified --seed 42',
  );
  cmd.action(async (source: string, flags: SplitFlags) => {
    await runCommand(flags, (out) => splitCommand(source, flags, out));
  });
}

function usage(message: string, field: string): CollabError {
  return new CollabError('USAGE', message, { field });
}

function fraction(flag: string, text: string | undefined, meaning: string): number | undefined {
  const v = numberFlag(flag, text);
  if (v !== undefined && !(v > 0 && v < 1)) throw usage(`--${flag} must be a number greater than 0 and less than 1 (${meaning}), got ${text}`, flag);
  return v;
}

async function splitCommand(source: string, flags: SplitFlags, out: Reporter) {
  let by = flags.by ?? 'random';
  const byUser = fraction('by-user', flags.byUser, "the fraction of each user's ratings kept in train");
  const k = intFlag('holdout-k', flags.holdoutK);
  if (byUser !== undefined && k !== undefined) throw usage('give either --by-user or --holdout-k, not both', 'holdout-k');
  if (byUser !== undefined || k !== undefined) {
    if (by !== 'random' && by !== 'user') throw usage(`--by-user and --holdout-k make a per-user holdout; they cannot be used with --by ${by}`, 'by');
    by = 'user';
  }
  if (flags.stratified && byUser === undefined) throw usage('--stratified needs --by-user <fraction> (e.g. --by-user 0.75)', 'stratified');
  if (flags.perUser && by !== 'time') throw usage('--per-user applies to --by time only', 'per-user');
  if (k !== undefined && k < 1) throw usage(`--holdout-k must be an integer >= 1, got ${flags.holdoutK}`, 'holdout-k');
  const validPct = fraction('valid-pct', flags.validPct ?? '0.2', 'the fraction of ratings for validation')!;
  const seed = intFlag('seed', flags.seed ?? '42')!;
  if (seed < 0 || seed > 0xffffffff) throw usage(`--seed must be an integer from 0 to 4294967295, got ${flags.seed}`, 'seed');
  const minTrain = intFlag('min-train', flags.minTrain ?? '1')!;
  if (minTrain < 0) throw usage(`--min-train must be an integer >= 0, got ${flags.minTrain}`, 'min-train');
  const cold = (flags.cold ?? 'keep') as ColdPolicy;

  const data = loadDataset(source, { ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}), skipBadRows: flags.skipBadRows === true });
  const r = data.ratings;
  let s: SplitResult | UserSplitResult;
  let pct: number | undefined = validPct;
  if (by === 'time') {
    s = temporalSplit(r, { validPct, perUser: flags.perUser === true, minTrain, cold });
  } else if (by === 'user' && flags.stratified) {
    pct = undefined;
    s = stratifiedSplit(r, { ratio: byUser!, seed, cold });
  } else if (by === 'user') {
    // 1 - 0.8 is 0.19999999999999996 in doubles; round so floor(n_u * validPct) agrees with the decimal.
    pct = k !== undefined ? undefined : byUser !== undefined ? Math.round((1 - byUser) * 1e12) / 1e12 : validPct;
    s = userHoldoutSplit(r, { ...(k !== undefined ? { k } : { validPct: pct! }), seed, minTrain, cold });
  } else {
    s = randomSplit(r, { validPct, seed, cold });
  }

  const dir = resolve(flags.out);
  mkdirSync(dir, { recursive: true });
  const trainFile = join(dir, 'train.csv');
  const validFile = join(dir, 'valid.csv');
  writeFileAtomic(trainFile, ...ratingsCsv(s.train));
  writeFileAtomic(validFile, ...ratingsCsv(s.valid));

  const held = 'usersHeldOut' in s ? s : undefined;
  out.info(`${data.name}: ${r.ratings.length} ratings split ${describe(s.method, pct, k, seed)}`);
  if (data.report.badRows > 0) out.info(`skipped ${data.report.badRows} bad rows (first: ${data.report.badRowExamples[0]})`);
  out.info(`train: ${s.train.ratings.length} ratings -> ${trainFile}`);
  out.info(`valid: ${s.valid.ratings.length} ratings -> ${validFile}`);
  if (held) out.info(`users with ratings in valid: ${held.usersHeldOut}; kept wholly in train (too few ratings): ${held.usersKeptInTrain}`);
  out.info(
    `cold (in valid, not in train): ${s.coldUsers.ids} users with ${s.coldUsers.ratings} ratings, ${s.coldItems.ids} items with ${s.coldItems.ratings} ratings; ` +
      (cold === 'drop' ? `dropped ${s.dropped} valid ratings (--cold drop)` : 'kept in valid (--cold keep)'),
  );
  return {
    source: data.source,
    by: s.method,
    ...(pct !== undefined ? { validPct: pct } : {}),
    ...(s.method === 'stratified' ? { trainRatio: byUser } : {}),
    ...(k !== undefined ? { holdoutK: k } : {}),
    ...(s.method === 'time' || s.method === 'user-time' ? {} : { seed }),
    cold,
    ratings: r.ratings.length,
    train: s.train.ratings.length,
    valid: s.valid.ratings.length,
    dropped: s.dropped,
    coldUsers: s.coldUsers,
    coldItems: s.coldItems,
    ...(held ? { usersHeldOut: held.usersHeldOut, usersKeptInTrain: held.usersKeptInTrain } : {}),
    trainFile,
    validFile,
  };
}

function describe(method: string, pct: number | undefined, k: number | undefined, seed: number): string {
  switch (method) {
    case 'random':
      return `at random (validPct ${pct}, seed ${seed})`;
    case 'time':
      return `by time (latest ${pct} of all ratings in valid)`;
    case 'user-time':
      return `by time per user (each user's latest ${pct} in valid)`;
    case 'stratified':
      return `per user, stratified as Microsoft Recommenders' python_stratified_split (seed ${seed})`;
    default:
      return k !== undefined ? `per user (${k} held out per user, seed ${seed})` : `per user (${pct} of each user's ratings held out, seed ${seed})`;
  }
}

const LINES_PER_CHUNK = 1 << 16;

/**
 * A Ratings table as CSV bytes: header `userId,movieId,rating,timestamp` (no timestamp column when the
 * table has none), raw ids, LF line endings, in chunks of 65536 lines.
 */
export function ratingsCsv(r: Ratings): Buffer[] {
  const ts = r.timestamps;
  const chunks: Buffer[] = [Buffer.from(ts ? 'userId,movieId,rating,timestamp\n' : 'userId,movieId,rating\n')];
  const n = r.ratings.length;
  const users = rawIdTexts(r.userIds.ids());
  const items = rawIdTexts(r.itemIds.ids());
  for (let start = 0; start < n; start += LINES_PER_CHUNK) {
    const end = Math.min(n, start + LINES_PER_CHUNK);
    let text = '';
    for (let k = start; k < end; k++) {
      text += users[r.users[k]!] + ',' + items[r.items[k]!] + ',' + formatRating(r.ratings[k]!);
      text += ts ? ',' + String(ts[k]) + '\n' : '\n';
    }
    chunks.push(Buffer.from(text, 'utf8'));
  }
  return chunks;
}

function rawIdTexts(ids: RawId[]): string[] {
  return ids.map((id) => {
    const s = String(id);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  });
}

/** The shortest decimal that reads back as the same float32 (half-star ratings print as 3.5, 4). */
export function formatRating(v: number): string {
  if (Number.isInteger(v * 2)) return String(v);
  for (let p = 1; p < 10; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}
