import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CollabError } from '../core/errors.js';
import { findDatasetFolder, loadDataset } from '../data/load.js';
import { resolveDatasetPath } from '../data/locate.js';
import { readRatingsFile } from '../data/read-delimited.js';
import { joinSplit, randomSplit } from '../data/split.js';
import { compareModels, summarizeFolds, type ComparisonRow } from '../evaluate/compare.js';
import { PROTOCOL_DESCRIPTION } from '../evaluate/protocol.js';
import { UNKNOWN_SHARE_LIMIT, checkUnknownShare, unknownShare, type UnknownShare } from '../evaluate/unknown-share.js';
import { MODEL_KINDS } from '../models/factory.js';
import type { ModelKind } from '../models/model.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface CompareFlags extends GlobalFlags {
  data: string;
  valid?: string;
  validPct: string;
  seed: string;
  models: string;
  k: string;
  threshold: string;
  cv?: boolean;
  dataDir?: string;
  strict?: boolean;
}

const fmt = (x: number, digits = 4): string => (Number.isNaN(x) ? '-' : x.toFixed(digits));

function printTable(out: Reporter, rows: { name: string; cells: string[] }[], k: number): void {
  const head = ['model', 'MSE', 'RMSE', 'MAE', `P@${k}`, `R@${k}`, `nDCG@${k}`, `MAP@${k}`, 'train s'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (c === 0 ? r.name : r.cells[c - 1]!).length)));
  const line = (cells: string[]): string => '| ' + cells.map((x, c) => x.padEnd(widths[c]!)).join(' | ') + ' |';
  out.info(line(head));
  out.info('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) out.info(line([r.name, ...r.cells]));
}

const cellsOf = (r: ComparisonRow): string[] => [fmt(r.mse), fmt(r.rmse), fmt(r.mae), fmt(r.precision), fmt(r.recall), fmt(r.ndcg), fmt(r.map), fmt(r.trainSeconds, 2)];

/** Registers `collab compare`: several models and the baselines on one split, or 5-fold over ml-100k's u1..u5. */
export function registerCompareCommand(program: Command): void {
  const cmd = program
    .command('compare')
    .description('train several models with their default recipes and the baselines (global mean, biases, popularity) on one split and print one table; --cv runs ml-100k\'s five u1..u5 folds and reports mean ± std')
    .requiredOption('--data <name|path>', 'dataset name, folder or ratings file')
    .option('--valid <file>', 'test ratings file (default: split off --valid-pct)')
    .option('--valid-pct <p>', 'fraction held out when --valid is not given', '0.2')
    .option('--seed <n>', 'split seed', '42')
    .option('--models <list>', `comma-separated model kinds (${MODEL_KINDS.join(', ')})`, 'dotbias,mf')
    .option('--k <count>', 'length of the ranked lists', '10')
    .option('--threshold <rating>', 'a test rating at or above this makes the movie relevant', '4')
    .option('--cv', 'five-fold cross-validation over the dataset folder\'s u1.base/u1.test .. u5.base/u5.test (ml-100k)')
    .option('--data-dir <dir>', 'folder holding datasets by name')
    .option('--strict', `with --valid: refuse (exit 1) when over ${UNKNOWN_SHARE_LIMIT * 100}% of its ratings are by users or of movies --data has no rating of (default: warn)`);
  cmd.addHelpText('after', `\n${PROTOCOL_DESCRIPTION}`);
  withExamples(withCommonFlags(cmd), 'collab compare --data ml-latest-small', 'collab compare --data ml-100k --cv --models dotbias,mf,nn --json');
  cmd.action((flags: CompareFlags) =>
    runCommand(flags, async (out) => {
      const models = flags.models.split(',').map((m) => m.trim()) as ModelKind[];
      for (const m of models) {
        if (!MODEL_KINDS.includes(m)) throw new CollabError('USAGE', `--models: unknown model "${m}"; use some of ${MODEL_KINDS.join(', ')}`, { field: 'models' });
      }
      const k = intFlag('k', flags.k)!;
      const threshold = numberFlag('threshold', flags.threshold)!;
      const options = { models, k, threshold };
      if (flags.cv) {
        const dir = existsSync(flags.data) ? flags.data : findDatasetFolder(flags.data, flags.dataDir);
        if (!dir || !existsSync(join(dir, 'u1.base'))) {
          throw new CollabError('USAGE', `--cv needs a folder with u1.base/u1.test .. u5.base/u5.test (ml-100k); "${flags.data}" has none`, { field: 'cv' });
        }
        const folds: ComparisonRow[][] = [];
        for (let f = 1; f <= 5; f++) {
          const train = readRatingsFile(join(dir, `u${f}.base`)).ratings;
          const test = readRatingsFile(join(dir, `u${f}.test`), { userIds: train.userIds, itemIds: train.itemIds }).ratings;
          const split = joinSplit(train, test);
          out.info(`fold u${f}: ${split.train.ratings.length} training, ${split.valid.ratings.length} test ratings`);
          folds.push(await compareModels(split.train, split.valid, options));
        }
        const summary = summarizeFolds(folds);
        out.info(`\n5-fold cross-validation on ${flags.data} (mean ± std over u1..u5):`);
        printTable(out, summary.map((s) => ({ name: s.name, cells: cellsOf(s.mean).map((m, c) => `${m} ± ${cellsOf(s.std)[c]}`) })), k);
        return { data: flags.data, folds: folds.length, k, threshold, summary, perFold: folds };
      }
      const ds = loadDataset(flags.data, flags.dataDir ? { dataDir: flags.dataDir } : {});
      let unknownToModel: UnknownShare | undefined;
      let split;
      if (flags.valid) {
        const validFile = resolveDatasetPath(flags.valid, flags.dataDir);
        const valid = readRatingsFile(validFile, { userIds: ds.ratings.userIds, itemIds: ds.ratings.itemIds }).ratings;
        unknownToModel = unknownShare(ds.ratings, valid);
        const warning = checkUnknownShare(unknownToModel, validFile, flags.strict === true);
        if (warning) process.stderr.write(warning + '\n');
        split = joinSplit(ds.ratings, valid);
      } else {
        split = randomSplit(ds.ratings, { validPct: numberFlag('valid-pct', flags.validPct)!, seed: intFlag('seed', flags.seed)! });
      }
      out.info(`${ds.name}: ${split.train.ratings.length} training, ${split.valid.ratings.length} test ratings`);
      const rows = await compareModels(split.train, split.valid, options);
      printTable(out, rows.map((r) => ({ name: r.name, cells: cellsOf(r) })), k);
      return { data: ds.name, k, threshold, rows, ...(unknownToModel ? { unknownToModel } : {}) };
    }),
  );
}
