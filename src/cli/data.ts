import { Command, Option } from 'commander';
import { CollabError } from '../core/errors.js';
import type { LoadOptions } from '../data/load.js';
import { loadDataset } from '../data/load.js';
import type { ColumnRef, Delimiter, DuplicatePolicy, TextEncoding } from '../data/read-delimited.js';
import { datasetStats, formatStats } from '../data/stats.js';
import { writeSyntheticRatings } from '../data/synthetic.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';
import { histogramChart } from '../plot/charts.js';
import { writePlot } from '../plot/render.js';

/**
 * The `collab data` command: returns the existing one or creates it, so each module that adds a
 * `data` subcommand (info and generate here, fetch elsewhere) can call `dataCommand(program).command(...)`.
 */
export function dataCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'data') ??
    program.command('data').description('inspect, fetch and generate ratings datasets')
  );
}

/** Registers `collab data info` and `collab data generate` on the `data` command (see dataCommand). */
export function registerDataCommands(program: Command): void {
  const data = dataCommand(program);
  registerInfo(data);
  registerGenerate(data);
}

/** Flags of every command that reads a dataset (as parsed by commander). */
export interface ReadFlags {
  dataDir?: string;
  skipBadRows?: boolean;
  delimiter?: string;
  header?: boolean;
  userCol?: string;
  itemCol?: string;
  ratingCol?: string;
  timeCol?: string;
  encoding?: string;
  scale?: string;
  duplicates?: string;
  metadata?: boolean;
}

/** Adds the dataset-reading flags (--data-dir, --skip-bad-rows, layout overrides) to a command. */
export function withReadFlags(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'folder holding unpacked datasets, searched before $COLLAB_DATA_DIR and the cache')
    .option('--skip-bad-rows', 'skip malformed rows and report how many, instead of stopping at the first')
    .option('--delimiter <sep>', 'field separator: "," tab "::" ";" "|" or space (default: detected)')
    .option('--header', 'the first line is a header (default: detected)')
    .option('--no-header', 'the first line is data')
    .option('--user-col <col>', 'user id column: 0-based index or header name (default: userId/user..., else 0)')
    .option('--item-col <col>', 'item id column: 0-based index or header name (default: movieId/itemId/item..., else 1)')
    .option('--rating-col <col>', 'rating column: 0-based index or header name (default: rating/score, else 2)')
    .option('--time-col <col>', 'timestamp column: 0-based index, header name, or "none" (default: timestamp/time, else 3)')
    .addOption(new Option('--encoding <enc>', 'text encoding of ids (default utf8)').choices(['utf8', 'latin1']))
    .option('--scale <lo,hi>', 'declared rating scale; ratings outside it are bad rows (e.g. 0.5,5)')
    .addOption(new Option('--duplicates <policy>', 'repeated (user, item) pairs: keep-last (default), keep-first or error').choices(['keep-last', 'keep-first', 'error']))
    .option('--no-metadata', 'skip titles, genres, tags and demographics');
}

/** A column flag: digits are a 0-based index, anything else a header name. */
function columnFlag(text: string | undefined): ColumnRef | undefined {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) ? Number(text) : text;
}

const DELIMITERS: Record<string, Delimiter> = {
  ',': ',', comma: ',', '\t': '\t', '\\t': '\t', tab: '\t', '::': '::', ';': ';', semicolon: ';',
  '|': '|', pipe: '|', ' ': 'whitespace', space: 'whitespace', whitespace: 'whitespace',
};

/** LoadOptions from parsed read flags; a bad value is a USAGE error naming the flag. */
export function loadOptionsFromFlags(flags: ReadFlags): LoadOptions {
  const options: LoadOptions = {};
  if (flags.dataDir !== undefined) options.dataDir = flags.dataDir;
  if (flags.skipBadRows) options.skipBadRows = true;
  if (flags.delimiter !== undefined) {
    const d = DELIMITERS[flags.delimiter];
    if (!d) throw new CollabError('USAGE', `--delimiter must be one of , tab :: ; | space, got "${flags.delimiter}"`, { field: 'delimiter' });
    options.delimiter = d;
  }
  if (flags.header !== undefined) options.header = flags.header;
  const user = columnFlag(flags.userCol);
  if (user !== undefined) options.userColumn = user;
  const item = columnFlag(flags.itemCol);
  if (item !== undefined) options.itemColumn = item;
  const rating = columnFlag(flags.ratingCol);
  if (rating !== undefined) options.ratingColumn = rating;
  if (flags.timeCol !== undefined) options.timestampColumn = flags.timeCol === 'none' ? null : columnFlag(flags.timeCol)!;
  if (flags.encoding !== undefined) options.encoding = flags.encoding as TextEncoding;
  if (flags.scale !== undefined) {
    const parts = flags.scale.split(',');
    const lo = parts.length === 2 ? numberFlag('scale', parts[0]) : undefined;
    const hi = parts.length === 2 ? numberFlag('scale', parts[1]) : undefined;
    if (lo === undefined || hi === undefined || lo > hi) {
      throw new CollabError('USAGE', `--scale must be "lo,hi" with lo <= hi (e.g. 0.5,5), got "${flags.scale}"`, { field: 'scale' });
    }
    options.scale = [lo, hi];
  }
  if (flags.duplicates !== undefined) options.duplicates = flags.duplicates as DuplicatePolicy;
  if (flags.metadata === false) options.metadata = false;
  return options;
}

function registerInfo(data: Command): void {
  const cmd = data
    .command('info')
    .description('count ratings, users and items of a dataset and summarize its scale, time range, activity and metadata')
    .argument('<dataset>', 'a dataset name (ml-latest-small, ml-100k, ...), a dataset folder, or a ratings file');
  cmd.option('--plot <file>', 'draw the rating histogram (.svg or .png)');
  withReadFlags(cmd);
  withCommonFlags(cmd);
  withExamples(
    cmd,
    'collab data info ml-latest-small',
    'collab data info ml-latest-small --plot ratings.png',
    'collab data info ml-100k --json',
    'collab data info ./ratings.tsv --no-header --skip-bad-rows',
  );
  cmd.action(async (dataset: string, flags: ReadFlags & GlobalFlags & { plot?: string }) => {
    await runCommand(flags, async (out) => {
      const stats = datasetStats(loadDataset(dataset, loadOptionsFromFlags(flags)));
      for (const line of formatStats(stats)) out.info(line);
      if (flags.plot) {
        const bins = stats.histogram.map((b) => ({ value: b.from === b.to ? b.from : (b.from + b.to) / 2, count: b.count }));
        await writePlot(flags.plot, histogramChart({ bins, title: `Ratings of ${stats.name ?? dataset}` }));
        out.info(`plot written to ${flags.plot}`);
      }
      return stats;
    });
  });
}

interface GenerateFlags extends GlobalFlags {
  rows: string;
  out: string;
  users?: string;
  items?: string;
  factors?: string;
  noise?: string;
  scale?: 'half' | 'whole';
  seed?: string;
}

function registerGenerate(data: Command): void {
  const cmd = data
    .command('generate')
    .description('write a synthetic MovieLens-shaped ratings.csv (long-tail users and items, low-rank structure plus noise)')
    .requiredOption('--rows <n>', 'number of ratings to write')
    .requiredOption('--out <file>', 'CSV file to write (userId,movieId,rating,timestamp); written to a temp file, then renamed')
    .option('--users <n>', 'number of users (default rows / 154, as in ml-25m)')
    .option('--items <n>', 'number of items (default rows / 420, as in ml-25m)')
    .option('--factors <k>', 'rank of the latent structure (default 8)')
    .option('--noise <sd>', 'noise standard deviation in stars (default 0.5)')
    .addOption(new Option('--scale <scale>', 'half stars 0.5-5 or whole stars 1-5 (default half)').choices(['half', 'whole']))
    .option('--seed <n>', 'random seed (default 42)');
  withCommonFlags(cmd);
  withExamples(cmd, 'collab data generate --rows 1000000 --out synthetic/ratings.csv', 'collab data generate --rows 25000000 --out big.csv --scale whole --seed 7');
  cmd.action(async (flags: GenerateFlags) => {
    await runCommand(flags, (out) => {
      const options: Parameters<typeof writeSyntheticRatings>[1] = { rows: intFlag('rows', flags.rows)! };
      const users = intFlag('users', flags.users);
      if (users !== undefined) options.users = users;
      const items = intFlag('items', flags.items);
      if (items !== undefined) options.items = items;
      const factors = intFlag('factors', flags.factors);
      if (factors !== undefined) options.factors = factors;
      const noise = numberFlag('noise', flags.noise);
      if (noise !== undefined) options.noise = noise;
      if (flags.scale !== undefined) options.scale = flags.scale;
      const seed = intFlag('seed', flags.seed);
      if (seed !== undefined) options.seed = seed;
      const summary = writeSyntheticRatings(flags.out, options);
      out.info(
        `wrote ${summary.rows.toLocaleString('en-US')} ratings (${summary.users.toLocaleString('en-US')} users, ` +
          `${summary.items.toLocaleString('en-US')} items, ${(summary.bytes / 1e6).toFixed(1)} MB) to ${summary.path} in ${summary.seconds.toFixed(1)} s`,
      );
      return summary;
    });
  });
}
