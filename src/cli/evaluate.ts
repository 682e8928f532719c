import type { Command } from 'commander';
import { datasetIdentity, requireSameDataset } from '../data/identity.js';
import { loadDataset } from '../data/load.js';
import { evaluateModel } from '../evaluate/evaluate-model.js';
import { PROTOCOL_DESCRIPTION } from '../evaluate/protocol.js';
import { UNKNOWN_SHARE_LIMIT, checkUnknownShare, unknownShare } from '../evaluate/unknown-share.js';
import { loadTrainedModel } from '../io/trained-model.js';
import { CollabError } from '../core/errors.js';
import { evaluateVisitors, type VisitorReport } from '../evaluate/visitors.js';
import { loadRecommender } from '../recommend/load.js';
import type { Reporter } from './command.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface EvaluateFlags extends GlobalFlags {
  model: string;
  data: string;
  k: string;
  threshold: string;
  dataDir?: string;
  ratingOnly?: boolean;
  forceDataset?: boolean;
  strict?: boolean;
  given?: string;
}

/** Registers `collab evaluate`. */
export function registerEvaluateCommand(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('rating error (MSE, RMSE, MAE) and ranking quality (precision, recall, nDCG, MAP, hit rate, MRR, coverage @k) of a model on test ratings')
    .requiredOption('--model <file>', 'model file written by `collab train --out`')
    .requiredOption('--data <file>', 'test ratings: a file, a dataset folder or a dataset name')
    .option('--k <count>', 'length of the ranked lists', '10')
    .option('--threshold <rating>', 'a test rating at or above this makes the movie relevant', '4')
    .option('--rating-only', 'skip the ranking metrics')
    .option('--given <file>', 'new visitors: fold in every user of this file from its ratings alone (users the model never saw), rank the movies they did not give and score the list against their --data ratings')
    .option('--data-dir <dir>', 'folder holding datasets by name')
    .option('--strict', `refuse (exit 1) when over ${UNKNOWN_SHARE_LIMIT * 100}% of the test ratings are by users or of movies the model never trained on (default: warn)`)
    .option('--force-dataset', 'evaluate even though the model was trained on another dataset (its movie ids then name other films)');
  cmd.addHelpText('after', `\n${PROTOCOL_DESCRIPTION} Test ratings whose user or movie the model never saw are predicted as the training mean and counted.`);
  withExamples(
    withCommonFlags(cmd),
    'collab evaluate --model model.json --data valid.csv',
    'collab evaluate --model model.json --data u1.test --k 10 --json',
    'collab evaluate --model model.json --given visitors/given.csv --data visitors/test.csv --threshold 0',
  );
  cmd.action((flags: EvaluateFlags) =>
    runCommand(flags, async (out) => {
      const k = intFlag('k', flags.k)!;
      const threshold = numberFlag('threshold', flags.threshold)!;
      if (flags.given !== undefined) return evaluateGiven(flags, k, threshold, out);
      const trained = loadTrainedModel(flags.model);
      const test = loadDataset(flags.data, flags.dataDir ? { dataDir: flags.dataDir } : {});
      if (flags.forceDataset !== true) {
        requireSameDataset(trained.dataset, datasetIdentity(test), { have: 'the model was trained on', given: `--data ${flags.data} is`, file: flags.model, override: '--force-dataset' });
      }
      const unknownToModel = unknownShare(trained.train, test.ratings);
      const warning = checkUnknownShare(unknownToModel, test.source, flags.strict === true);
      // on stderr even without --json: the figures below would otherwise look trustworthy
      if (warning) process.stderr.write(warning + '\n');
      const result = { ...evaluateModel(trained, test.ratings, { k, threshold, ratingOnly: flags.ratingOnly === true }), unknownToModel };
      out.info(`test ratings ${result.n} (unknown user or movie: ${result.unknown.ratings}, predicted as the training mean ${result.unknown.fallbackValue.toFixed(3)})`);
      out.info(`MSE ${result.mse.toFixed(4)}  RMSE ${result.rmse.toFixed(4)}  MAE ${result.mae.toFixed(4)}`);
      const rk = result.ranking;
      if (rk) {
        out.info(`ranking @${rk.k} over ${rk.users} users (relevant: rating >= ${rk.threshold}; ${rk.skippedUsers} users without relevant items skipped):`);
        out.info(`  precision ${rk.precision.toFixed(4)}  recall ${rk.recall.toFixed(4)}  nDCG ${rk.ndcg.toFixed(4)}  MAP ${rk.map.toFixed(4)}  hit rate ${rk.hitRate.toFixed(4)}  MRR ${rk.mrr.toFixed(4)}  coverage ${rk.coverage.toFixed(4)}`);
      }
      return result;
    }),
  );
}

// New visitors: the model never saw these users; what it knows of them is the --given file.
async function evaluateGiven(flags: EvaluateFlags, k: number, threshold: number, out: Reporter): Promise<VisitorReport> {
  if (flags.ratingOnly === true) throw new CollabError('USAGE', '--rating-only and --given do not go together: new visitors are scored by ranking', { field: 'rating-only' });
  const rec = loadRecommender(flags.model);
  const opts = flags.dataDir ? { dataDir: flags.dataDir } : {};
  const given = loadDataset(flags.given!, opts);
  const test = loadDataset(flags.data, opts);
  const report = evaluateVisitors(rec, given.ratings, test.ratings, { k, threshold });
  if (report.knownToModel > 0) process.stderr.write(`warning: ${report.knownToModel} of the ${report.visitors} users of ${given.source} are users the model trained on; they are folded in from --given alone, but the figures then flatter the model\n`);
  const rk = report.ranking;
  out.info(`${report.visitors} visitors folded in from ${given.ratings.ratings.length} given ratings (${report.nothingKnown} with no movie the model knows; unknown movies: ${report.unknownMovies.given} given, ${report.unknownMovies.test} test, left out)`);
  out.info(`ranking @${rk.k} over ${rk.users} visitors (relevant: rating >= ${rk.threshold}; ${rk.skippedUsers} visitors without relevant items skipped):`);
  out.info(`  precision ${rk.precision.toFixed(4)}  recall ${rk.recall.toFixed(4)}  nDCG ${rk.ndcg.toFixed(4)}  MAP ${rk.map.toFixed(4)}  hit rate ${rk.hitRate.toFixed(4)}  MRR ${rk.mrr.toFixed(4)}  coverage ${rk.coverage.toFixed(4)}`);
  return report;
}
