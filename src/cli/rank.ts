import { performance } from 'node:perf_hooks';
import { Option, type Command } from 'commander';
import { CollabError } from '../core/errors.js';
import { loadDataset } from '../data/load.js';
import { saveEaseModel } from '../io/ease-model.js';
import { checkSaveTarget } from '../io/model-file.js';
import { datasetIdentity } from '../data/identity.js';
import { saveIalsModel } from '../io/ials-model.js';
import type { Ratings } from '../data/ratings.js';
import { IALS_DEFAULTS, fitIals, ialsConfig, type IalsModel, type IalsOptions } from '../models/ials.js';
import { joinSplit, stratifiedSplit } from '../data/split.js';
import { EASE_DEFAULT_LAMBDA, EaseModel, fitEase } from '../models/ease.js';
import { UNKNOWN_SHARE_LIMIT, checkUnknownShare, unknownShare, type UnknownShare } from '../evaluate/unknown-share.js';
import { IMPLICIT_PROTOCOL_DESCRIPTION, evaluateTopN, implicitProtocol } from '../evaluate/implicit-protocol.js';
import { RANK_ORDER_LINE } from './recommend.js';
import { seenIndex, seenItemsOf } from '../data/seen.js';
import { topKForUser } from '../maths/top-k.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

interface RankFlags extends GlobalFlags {
  data: string;
  test?: string;
  ratio: string;
  seed: string;
  lambda: string;
  k: string;
  user?: string;
  n: string;
  dataDir?: string;
  out?: string;
  strict?: boolean;
  model: 'ease' | 'ials';
  factors: string;
  iterations: string;
  alpha: string;
  reg: string;
  includeRated?: boolean;
}

/** Registers `collab rank`: a top-N model on implicit feedback (EASE, or iALS), judged by the Microsoft Recommenders protocol. */
export function registerRankCommand(program: Command): void {
  const cmd = program
    .command('rank')
    .description('train a top-N model (EASE, or iALS with --model ials) on who rated what (implicit feedback) and report P@k, R@k, nDCG@k, MAP and train seconds; optionally list "what to watch next" for a user')
    .requiredOption('--data <name|path>', 'ratings: a dataset name (ml-100k), folder or file; split per user 75/25 unless --test is given')
    .option('--test <file>', 'test ratings file (then --data is the training part as it is)')
    .option('--ratio <fraction>', "share of each user's ratings kept for training (Microsoft Recommenders' python_stratified_split)", '0.75')
    .option('--seed <n>', 'split seed', '42')
    .addOption(new Option('--model <kind>', 'ease (closed form, an nItems² inverse) or ials (implicit ALS, memory linear in the catalogue)').choices(['ease', 'ials']).default('ease'))
    .option('--lambda <l>', 'EASE ridge weight', String(EASE_DEFAULT_LAMBDA))
    .option('--factors <k>', 'iALS factors per user and movie', String(IALS_DEFAULTS.factors))
    .option('--iterations <n>', 'iALS alternations (users, then movies)', String(IALS_DEFAULTS.iterations))
    .option('--alpha <a>', 'iALS confidence of a watched movie is 1 + alpha', String(IALS_DEFAULTS.alpha))
    .option('--reg <r>', 'iALS ridge weight (scaled per row by its total weight)', String(IALS_DEFAULTS.reg))
    .option('--k <n>', 'list length', '10')
    .option('--user <id>', 'also print this user\'s top n unseen movies')
    .option('-n <count>', 'movies for --user', '10')
    .option('--include-rated', 'with --user: also list movies the user rated (by default everything --data and --test hold of them is left out)')
    .option('--data-dir <dir>', 'folder holding datasets by name')
    .option('--strict', `with --test: refuse (exit 1) when over ${UNKNOWN_SHARE_LIMIT * 100}% of its ratings are by users or of movies --data has no rating of (default: warn)`)
    .option('--out <file>', 'save the model fitted on all ratings of --data (not only the training part) for collab recommend / similar / serve --model');
  cmd.addHelpText('after', `\n${IMPLICIT_PROTOCOL_DESCRIPTION} MAP is also given as Microsoft Recommenders computes it (mapRecommenders: divided by all relevant items).`);
  withExamples(withCommonFlags(cmd), 'collab rank --data ml-100k', 'collab rank --data ml-100k --user 1 -n 10 --json', 'collab rank --data train.csv --test valid.csv --lambda 400', 'collab rank --data ml-100k --out next.json', 'collab rank --data ml-latest-small --model ials --factors 128 --out next.json');
  cmd.action((flags: RankFlags) =>
    runCommand(flags, async (out) => {
      const opts = flags.dataDir ? { dataDir: flags.dataDir } : {};
      const k = intFlag('k', flags.k)!;
      const ratio = numberFlag('ratio', flags.ratio)!;
      const seed = intFlag('seed', flags.seed)!;
      const lambda = numberFlag('lambda', flags.lambda)!;
      const n = intFlag('n', flags.n)!;
      if (k < 1) throw new CollabError('USAGE', `--k must be an integer >= 1, got ${flags.k}`, { field: 'k' });
      if (n < 1) throw new CollabError('USAGE', `-n must be an integer >= 1, got ${flags.n}`, { field: 'n' });
      if (flags.out !== undefined) checkSaveTarget(flags.out); // before the fit, not after
      const ials: IalsOptions = { factors: intFlag('factors', flags.factors)!, iterations: intFlag('iterations', flags.iterations)!, alpha: numberFlag('alpha', flags.alpha)!, reg: numberFlag('reg', flags.reg)! };
      try {
        ialsConfig(ials);
      } catch (e) {
        // the library names the option; on the command line it is a flag
        if (e instanceof CollabError) throw new CollabError('USAGE', `--${e.message}`, { field: e.location.field ?? 'model' });
        throw e;
      }
      const fit = (r: Ratings): Promise<EaseModel | IalsModel> =>
        flags.model === 'ials' ? fitIals(r.users, r.items, r.userIds.size, r.itemIds.size, ials) : Promise.resolve(fitEase(r.users, r.items, r.userIds.size, r.itemIds.size, { lambda }));
      const modelName = flags.model === 'ials' ? `iALS (${ials.factors} factors, ${ials.iterations} iterations, alpha ${ials.alpha}, reg ${ials.reg})` : `EASE (lambda ${lambda})`;
      const data = loadDataset(flags.data, opts);
      let unknownToModel: UnknownShare | undefined;
      let split;
      if (flags.test) {
        const test = loadDataset(flags.test, opts);
        unknownToModel = unknownShare(data.ratings, test.ratings);
        const warning = checkUnknownShare(unknownToModel, test.source, flags.strict === true);
        if (warning) process.stderr.write(warning + '\n');
        split = joinSplit(data.ratings, test.ratings);
      } else {
        split = stratifiedSplit(data.ratings, { ratio, seed });
      }
      const { train, valid: test } = split;
      const t0 = performance.now();
      const model = await fit(train);
      const trainSeconds = (performance.now() - t0) / 1000;
      const report = evaluateTopN(implicitProtocol(train, test), (u, kk) => model.recommend(u, kk).items, k);
      out.info(
        `${data.name}: ${modelName} trained in ${trainSeconds.toFixed(2)} s on ${train.ratings.length} ratings; ${test.ratings.length} test ratings, ${report.users} users` +
          (flags.test ? '' : ` (stratified ${ratio} per user, seed ${seed})`),
      );
      out.info(
        `P@${k} ${report.precision.toFixed(4)}  R@${k} ${report.recall.toFixed(4)}  nDCG@${k} ${report.ndcg.toFixed(4)}  MAP ${report.mapRecommenders.toFixed(4)} (Recommenders) / ${report.map.toFixed(4)} (collab)`,
      );
      let items: { itemId: string | number; title: string; score: number; rankScore: number }[] | undefined;
      if (flags.user !== undefined) {
        const raw = /^-?\d+$/.test(flags.user) ? Number(flags.user) : flags.user;
        const u = train.userIds.lookup(raw, 'error', 'user');
        // the user's test part is rated too: "what to watch next" leaves out everything --data (and --test) holds of them
        const seen = flags.includeRated ? new Int32Array(0) : seenItemsOf(seenIndex(train, train.userIds.size, test), u);
        const top = topKForUser(model.scoreUser(u), n, seen);
        items = Array.from(top.items, (i, t) => {
          const itemId = train.itemIds.idOf(i);
          return { itemId, title: data.items.get(itemId)?.title ?? String(itemId), score: top.scores[t]!, rankScore: top.scores[t]! };
        });
        out.info(`what user ${flags.user} may watch next (${RANK_ORDER_LINE[flags.model]}):`);
        for (const it of items) out.info(`  ${String(it.itemId).padStart(6)}  ${it.score.toFixed(3)}  ${it.title}`);
      }
      let saved: { out: string; fitSeconds: number; saveSeconds: number; ratings: number } | undefined;
      if (flags.out !== undefined) {
        // The saved model serves "what to watch next", so it learns from every rating of --data (the
        // evaluated model never saw the test part, and would recommend movies the user already rated there).
        const t1 = performance.now();
        const all = flags.test ? train : data.ratings;
        const full = flags.test ? model : await fit(all);
        const t2 = performance.now();
        const dataset = datasetIdentity(data);
        if (full instanceof EaseModel) saveEaseModel(flags.out, { model: full, train: all, items: data.items, ...(dataset ? { dataset } : {}) });
        else saveIalsModel(flags.out, { model: full, train: all, items: data.items, ...(dataset ? { dataset } : {}) });
        const t3 = performance.now();
        saved = { out: flags.out, fitSeconds: (t2 - t1) / 1000, saveSeconds: (t3 - t2) / 1000, ratings: all.ratings.length };
        out.info(`saved ${flags.model === 'ials' ? 'iALS' : 'EASE'} fitted on all ${all.ratings.length} ratings of --data to ${flags.out} (fit ${saved.fitSeconds.toFixed(2)} s, save ${saved.saveSeconds.toFixed(2)} s); use it with collab recommend --model ${flags.out}`);
      }
      return {
        dataset: data.name,
        model: flags.model,
        ...(flags.model === 'ials' ? ials : { lambda }),
        k,
        trainSeconds,
        trainRatings: train.ratings.length,
        testRatings: test.ratings.length,
        users: report.users,
        precision: report.precision,
        recall: report.recall,
        ndcg: report.ndcg,
        map: report.map,
        mapRecommenders: report.mapRecommenders,
        ...(items ? { items } : {}),
        ...(saved ? { saved } : {}),
        ...(unknownToModel ? { unknownToModel } : {}),
      };
    }),
  );
}
