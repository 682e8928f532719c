import { Option, type Command } from 'commander';
import { CollabError } from '../core/errors.js';
import { loadDataset } from '../data/load.js';
import { coldStartBenchmark, coldStartSeeds, formatColdStartSummary, formatColdStartTable } from '../evaluate/coldstart.js';
import { ITEM_FEATURE_KINDS, USER_FEATURE_KINDS, parseFeatureKinds } from '../models/hybrid-features.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface ColdstartFlags extends GlobalFlags {
  users: string;
  itemsPct: string;
  given: string;
  scenarios?: string;
  userFeatures?: string;
  itemFeatures: string;
  contentFeatures: string;
  epochs?: string;
  lr?: string;
  wd?: string;
  pickFactors?: string;
  seeds?: string;
  factors: string;
  seed: string;
  k: string;
  threshold: string;
  userIdDropout: string;
  itemIdDropout: string;
  foldInLambda: string;
  foldInBiasLambda: string;
  dataDir?: string;
}

/** Registers `collab coldstart <dataset>`: the cold-start protocols in one table. */
export function registerColdstartCommand(program: Command): void {
  const cmd = program
    .command('coldstart')
    .description(
      'cold-start table: new users given 0/1/5/10 ratings and new movies predicted from metadata; hybrid, content, dotbias fold-in, bias baseline and popularity by RMSE, precision@k and nDCG@k',
    )
    .argument('<dataset>', 'a MovieLens dataset name or folder (ml-100k has demographics for new users; ml-latest-small has tags for new movies)')
    .option('--users <n>', 'users held out of training entirely (new users)', '100')
    .option('--items-pct <fraction>', 'share of movies held out of training entirely (new movies)', '0.1')
    .option('--given <list>', 'ratings a new user gives, comma list', '0,1,5,10')
    .addOption(new Option('--scenarios <list>', 'users, items or users,items (default: both when the dataset has demographics, else items)'))
    .addOption(new Option('--user-features <list>', `hybrid user features: comma list of ${USER_FEATURE_KINDS.join(', ')} or none (default: all when the dataset has demographics)`))
    .option('--item-features <list>', `hybrid movie features: ${ITEM_FEATURE_KINDS.join(', ')} or none`, 'genres,year,tags')
    .option('--content-features <list>', 'content-model features', 'genres,year,tags,title')
    .option('--epochs <n>', 'one-cycle epochs of hybrid and dotbias (default: their collab train recipe, 6)')
    .option('--lr <lr>', 'peak learning rate (default: the recipe\'s, 4e-3)')
    .option('--wd <wd>', 'weight decay of the embeddings (default: the recipe\'s, 0.2)')
    .option('--pick-factors <k>', 'width of the hybrid\'s pick head, which ranks by what people like the user watch (0: rank by ln(1 + count) as the others; default: --factors)')
    .option('--factors <k>', 'embedding width', '50')
    .option('--seed <n>', 'seed of every draw and of training', '42')
    .option('--seeds <list>', 'repeat over these seeds (comma list) and print mean ± sd per row and the wins over dotbias')
    .option('--k <n>', 'ranking cut-off', '10')
    .option('--threshold <rating>', 'a test rating at or above this is relevant', '4')
    .option('--user-id-dropout <p>', "hybrid: share of training ratings that hide the user's id part", '0')
    .option('--item-id-dropout <p>', "hybrid: share of training ratings that hide the movie's id part", '0')
    .option('--fold-in-lambda <l>', 'fold-in ridge weight on the user vector', '10')
    .option('--fold-in-bias-lambda <l>', 'fold-in ridge weight on the user bias', '5')
    .option('--data-dir <dir>', 'folder holding datasets by name');
  cmd.addHelpText(
    'after',
    '\nProtocol: the held-out users and movies never reach training; 10% of the other ratings are the warm test. A new user tells the models the first n of their ratings (seeded order); ' +
      'the ratings after the first max(n) are the test for every n. Rating models rank by predicted rating + 0.5 ln(1 + ratings of the movie) (estimated from metadata for new movies); ' +
      'the hybrid, as collab recommend ranks it, puts its pick head\'s personalised log-popularity in place of ln(1 + count); ' +
      'popularity ranks by training counts, which new movies do not have. One seed holds out 100 users: --seeds 1,2,3,4,42 says how much the figures move.',
  );
  withExamples(
    withCommonFlags(cmd),
    'collab coldstart ml-100k',
    'collab coldstart ml-latest-small --scenarios items --item-features genres,year,tags',
    'collab coldstart ml-100k --users 50 --given 0,5 --json',
    'collab coldstart ml-100k --seeds 1,2,3,4,42',
  );
  cmd.action((dataset: string, flags: ColdstartFlags) =>
    runCommand(flags, async (out) => {
      const list = (name: string, text: string): number[] =>
        text.split(',').map((t) => {
          const v = intFlag(name, t.trim());
          if (v === undefined || v < 0) throw new CollabError('USAGE', `--${name} must be a comma list of integers >= 0, got "${text}"`, { field: name });
          return v;
        });
      const scenarios = flags.scenarios === undefined ? undefined : parseFeatureKinds(flags.scenarios, ['users', 'items'] as const, 'scenarios');
      if (scenarios !== undefined && scenarios.length === 0) throw new CollabError('USAGE', '--scenarios needs users, items or users,items', { field: 'scenarios' });
      const data = loadDataset(dataset, flags.dataDir ? { dataDir: flags.dataDir } : {});
      const options = {
        ...(scenarios ? { scenarios } : {}),
        heldOutUsers: intFlag('users', flags.users)!,
        heldOutItemPct: numberFlag('items-pct', flags.itemsPct)!,
        given: list('given', flags.given),
        ...(flags.userFeatures !== undefined ? { userFeatures: parseFeatureKinds(flags.userFeatures, USER_FEATURE_KINDS, 'user-features') } : {}),
        itemFeatures: parseFeatureKinds(flags.itemFeatures, ITEM_FEATURE_KINDS, 'item-features'),
        contentFeatures: parseFeatureKinds(flags.contentFeatures, ITEM_FEATURE_KINDS, 'content-features'),
        ...(flags.epochs !== undefined ? { epochs: intFlag('epochs', flags.epochs)! } : {}),
        ...(flags.lr !== undefined ? { lr: numberFlag('lr', flags.lr)! } : {}),
        ...(flags.wd !== undefined ? { wd: numberFlag('wd', flags.wd)! } : {}),
        ...(flags.pickFactors !== undefined ? { pickFactors: intFlag('pick-factors', flags.pickFactors)! } : {}),
        nFactors: intFlag('factors', flags.factors)!,
        k: intFlag('k', flags.k)!,
        threshold: numberFlag('threshold', flags.threshold)!,
        userIdDropout: numberFlag('user-id-dropout', flags.userIdDropout)!,
        itemIdDropout: numberFlag('item-id-dropout', flags.itemIdDropout)!,
        foldInLambda: numberFlag('fold-in-lambda', flags.foldInLambda)!,
        foldInBiasLambda: numberFlag('fold-in-bias-lambda', flags.foldInBiasLambda)!,
        onProgress: (line: string) => {
          if (!out.json) out.info(line);
        },
      };
      if (flags.seeds !== undefined) {
        const summary = await coldStartSeeds(data, options, list('seeds', flags.seeds));
        const first = summary.reports[0]!;
        out.info(`${first.dataset}: ${first.heldOutUsers} new users, ${first.heldOutItems} new movies per seed`);
        for (const line of formatColdStartSummary(summary)) out.info(line);
        return summary;
      }
      const report = await coldStartBenchmark(data, { ...options, seed: intFlag('seed', flags.seed)! });
      out.info(
        `${report.dataset}: ${report.heldOutUsers} new users, ${report.heldOutItems} new movies; hybrid features: users [${report.userFeatures.join(', ')}], movies [${report.itemFeatures.join(', ')}]`,
      );
      for (const line of formatColdStartTable(report)) out.info(line);
      return report;
    }),
  );
}
