import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { IdMap, type RawId } from '../data/id-map.js';
import { datasetIdentity, type DatasetIdentity } from '../data/identity.js';
import { datasetFromStore } from '../server/store/store-dataset.js';
import { openCliStore } from './db.js';
import { loadDataset } from '../data/load.js';
import { resolveDatasetPath } from '../data/locate.js';
import type { Dataset, ItemMeta, Ratings, UserMeta } from '../data/ratings.js';
import { buildItemFeatures, buildUserFeatures, parseFeatureKinds, ITEM_FEATURE_KINDS, USER_FEATURE_KINDS } from '../models/hybrid-features.js';
import { readRatingsFile } from '../data/read-delimited.js';
import { joinSplit, randomSplit, type SplitResult } from '../data/split.js';
import { saveTrainedModel } from '../io/trained-model.js';
import { checkSaveTarget } from '../io/model-file.js';
import { lossChart, lrFinderChart } from '../plot/charts.js';
import { writePlot } from '../plot/render.js';
import { loadOptionsFromFlags, withReadFlags, type ReadFlags } from './data.js';
import type { ModelKind } from '../models/model.js';
import { MODEL_KINDS } from '../models/factory.js';
import { collabLearner, type CollabLearner, type CollabLearnerOptions, type EpochStats } from '../train/learner.js';
import { CACHE_FIT_BYTES } from '../kernels/param-memory.js';
import { DEFAULT_THREADS_TEXT, LIBRARY_DEFAULTS, TRAIN_DEFAULTS, defaultModel, defaultsByKind, perRatingReg, WD_TUNED_RATINGS, wdHint } from '../train/defaults.js';
import { oneCycleRampLength } from '../train/lr-find.js';
import { suggestLr } from '../train/suggest-lr.js';
import type { OptimizerKind } from '../train/optimizers.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';
import { MODEL_REGISTRY, type AnyModelConfig } from '../models/registry.js';

/** Flags of `collab train` and `collab lr-find` as commander hands them over (all text). */
export interface TrainFlags extends GlobalFlags, ReadFlags {
  data?: string;
  db?: string;
  userFeatures?: string;
  itemFeatures?: string;
  pickFactors?: string;
  out?: string;
  plot?: string;
  valid?: string;
  validPct?: string;
  seed?: string;
  model?: string;
  factors?: string;
  epochs?: string;
  lr?: string;
  wd?: string;
  bs?: string;
  optimizer?: string;
  momentum?: string;
  schedule?: string;
  yRange?: string;
  biasDecay?: boolean;
  embSizes?: string;
  layers?: string;
  dropout?: string;
  threads?: string;
  blocks?: string;
  startLr?: string;
  endLr?: string;
  numIt?: string;
  cycleIt?: string;
}

/** Training and validation ratings with shared id maps, plus where they came from. */
interface LoadedData {
  name: string;
  /** User demographics of the dataset (hybrid's user features). */
  users: Map<RawId, UserMeta>;
  train: Ratings;
  valid: Ratings | undefined;
  /** Movie metadata of the dataset (titles, genres, years), saved with the model. */
  items: Map<RawId, ItemMeta>;
  /** Validation ratings whose user or movie never occurs in training (the model keeps their init). */
  cold: { users: number; items: number; ratings: number } | undefined;
  /** The dataset's identity (recorded in the model), when it has a catalogue. */
  dataset: DatasetIdentity | undefined;
}

/**
 * Reads --data (a dataset name, folder or ratings file) and --valid (a file whose ids extend the same id
 * maps), or splits off --valid-pct with numpy's RandomState(seed).permutation (valid = the first pct, as
 * make_split.py does, so --valid-pct 0.2 --seed 42 gives exactly the shared 80/20 split files).
 */
async function loadTrainingData(flags: TrainFlags): Promise<LoadedData> {
  if (!flags.data && !flags.db) {
    throw new CollabError('USAGE', '--data is required: a dataset name (ml-100k, ml-latest-small, ...), a folder or a ratings file (or --db)', { field: 'data' });
  }
  if (flags.data && flags.db) throw new CollabError('USAGE', 'give --data or --db, not both', { field: 'db' });
  const ds = flags.db ? await datasetFromStore(flags.db, openCliStore) : loadDataset(flags.data!, loadOptionsFromFlags(flags));
  // a database knows which dataset it was imported from; a loaded dataset knows its own catalogue
  const dataset = 'identity' in ds ? (ds.identity as DatasetIdentity | undefined) : datasetIdentity(ds);
  const base = { name: ds.name, items: ds.items, users: ds.users, dataset };
  if (flags.valid !== undefined) {
    const valid = readRatingsFile(resolveDatasetPath(flags.valid, flags.dataDir), { userIds: ds.ratings.userIds, itemIds: ds.ratings.itemIds, skipBadRows: flags.skipBadRows === true });
    const split = joinSplit(ds.ratings, valid.ratings);
    return { ...base, train: split.train, valid: split.valid, cold: coldOf(split) };
  }
  const pct = requireNumber('valid-pct', numberFlag('valid-pct', flags.validPct) ?? LIBRARY_DEFAULTS.validPct, 0, 0.9);
  if (pct === 0) return { ...base, train: ds.ratings, valid: undefined, cold: undefined };
  const split = randomSplit(ds.ratings, { validPct: pct, seed: intFlag('seed', flags.seed) ?? LIBRARY_DEFAULTS.seed });
  return { ...base, train: split.train, valid: split.valid, cold: coldOf(split) };
}


// The registry's kinds, the defaults first (the one for data with side data, then the other).
function modelChoices(): ModelKind[] {
  const first = [LIBRARY_DEFAULTS.modelWithSideData, LIBRARY_DEFAULTS.model];
  return [...first, ...MODEL_KINDS.filter((k) => !first.includes(k))];
}

function modelChoicesHelp(): string {
  return modelChoices()
    .map((kind) => {
      const note = kind === LIBRARY_DEFAULTS.modelWithSideData ? '; the default when the data has movie metadata or demographics' : kind === LIBRARY_DEFAULTS.model ? '; the default otherwise' : '';
      return `${kind} (${MODEL_REGISTRY[kind].summary}${note})`;
    })
    .join(', ');
}

// The default model depends on whether the data has side data (see LIBRARY_DEFAULTS).
function defaultModelFor(data: LoadedData): ModelKind {
  return defaultModel(data.items.size > 0 || data.users.size > 0);
}

function coldOf(split: SplitResult): LoadedData['cold'] {
  return { users: split.coldUsers.ids, items: split.coldItems.ids, ratings: Math.max(split.coldUsers.ratings, split.coldItems.ratings) };
}

function parseList(name: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((t) => t.trim());
  const values = parts.map((t) => Number(t));
  if (parts.some((t) => t === '') || values.some((v) => !Number.isFinite(v))) {
    throw new CollabError('USAGE', `--${name} must be comma-separated numbers, got "${text}"`, { field: name });
  }
  return values;
}

/** The model kind, recipe and learner options the flags ask for, with per-kind defaults filled in. */
function learnerOptions(flags: TrainFlags): { kind: ModelKind; epochs: number; lr: number; schedule: 'one-cycle' | 'constant'; options: CollabLearnerOptions } {
  const kind = (flags.model ?? LIBRARY_DEFAULTS.model) as ModelKind;
  if (!(kind in TRAIN_DEFAULTS)) {
    throw new CollabError('INVALID_OPTION', `--model must be one of ${Object.keys(TRAIN_DEFAULTS).join(', ')}, got "${flags.model}"`, { field: 'model' });
  }
  if (!MODEL_KINDS.includes(kind)) {
    throw new CollabError('INVALID_OPTION', `--model ${kind} is not available in this build yet; use one of ${MODEL_KINDS.join(', ')}`, { field: 'model' });
  }
  const d = TRAIN_DEFAULTS[kind];
  const optimizer = (flags.optimizer ?? d.optimizer) as OptimizerKind;
  if (optimizer !== 'sgd' && optimizer !== 'adam') {
    throw new CollabError('INVALID_OPTION', `--optimizer must be sgd or adam, got "${flags.optimizer}"`, { field: 'optimizer' });
  }
  const schedule = flags.schedule ?? d.schedule;
  if (schedule !== 'one-cycle' && schedule !== 'constant') {
    throw new CollabError('INVALID_OPTION', `--schedule must be one-cycle or constant, got "${flags.schedule}"`, { field: 'schedule' });
  }
  const yRange = parseList('y-range', flags.yRange);
  if (yRange && (yRange.length !== 2 || !(yRange[1]! > yRange[0]!))) {
    throw new CollabError('INVALID_OPTION', `--y-range must be "lo,hi" with hi > lo, got "${flags.yRange}"`, { field: 'y-range' });
  }
  const modelConfig: AnyModelConfig = {};
  const embSizes = parseList('emb-sizes', flags.embSizes);
  const layers = parseList('layers', flags.layers);
  const dropout = parseList('dropout', flags.dropout);
  if (embSizes) modelConfig.embSizes = embSizes as [number, number]; // nn refuses any other count, naming it
  if (layers) modelConfig.layers = layers;
  if (dropout) modelConfig.ps = dropout;
  const pickFactors = intFlag('pick-factors', flags.pickFactors);
  if (pickFactors !== undefined) {
    if (pickFactors < 0) throw new CollabError('USAGE', `--pick-factors must be an integer >= 0, got ${flags.pickFactors}`, { field: 'pick-factors' });
    if (MODEL_REGISTRY[kind].sideFeatures) modelConfig.pickFactors = pickFactors;
  }
  const options: CollabLearnerOptions = {
    model: kind,
    nFactors: intFlag('factors', flags.factors) ?? d.nFactors,
    batchSize: intFlag('bs', flags.bs) ?? d.batchSize,
    optimizer,
    wd: wdFlag(flags.wd) ?? d.wd,
    momentum: numberFlag('momentum', flags.momentum) ?? d.momentum,
    seed: intFlag('seed', flags.seed) ?? LIBRARY_DEFAULTS.seed,
    // unset, the learner picks (defaultThreads): the library and the CLI train alike
    threads: intFlag('threads', flags.threads),
    blocks: blocksFlag(flags.blocks),
    biasDecay: flags.biasDecay ?? d.biasDecay,
    modelConfig,
  };
  if (yRange) options.yRange = [yRange[0]!, yRange[1]!];
  const epochs = requireInt('epochs', intFlag('epochs', flags.epochs) ?? d.epochs, 1);
  const lr = numberFlag('lr', flags.lr) ?? d.lr;
  if (!(lr > 0)) throw new CollabError('USAGE', `--lr must be a positive learning rate such as 4e-3, got ${lr}`, { field: 'lr' });
  return { kind, epochs, lr, schedule, options };
}

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** fastai's epoch table: one header, one row per epoch; without validation data its columns are left out rather than shown as NaN. */
function epochTableHeader(hasValid: boolean): string {
  return ['epoch', 'train_loss', ...(hasValid ? ['valid_loss', 'valid_rmse'] : []), 'time'].map((h) => pad(h, 11)).join('');
}

function epochTableRow(e: EpochStats, epochSeconds: number, hasValid: boolean): string {
  const valid = hasValid ? [e.validMse.toFixed(6), e.validRmse.toFixed(6)] : [];
  return [String(e.epoch), e.trainLoss.toFixed(6), ...valid, formatTime(epochSeconds)].map((c) => pad(c, 11)).join('');
}

/** Learner callbacks that print the epoch table and, on a terminal, a progress bar. */
function reporting(out: Reporter, hasValid: boolean): Pick<CollabLearnerOptions, 'onEpoch' | 'onBatch'> & { stop(): void } {
  let bar: cliProgress.SingleBar | undefined;
  let lastElapsed = 0;
  let printedHeader = false;
  return {
    onBatch(done, total) {
      if (!out.tty) return;
      if (!bar) {
        bar = new cliProgress.SingleBar({ stream: process.stderr, clearOnComplete: true, hideCursor: true, format: ' {bar} {percentage}% | batch {value}/{total} | eta {eta}s' }, cliProgress.Presets.shades_classic);
        bar.start(total, done);
      }
      if (done % 64 === 0 || done === total) bar.update(done);
    },
    onEpoch(e) {
      if (bar) {
        bar.stop();
        bar = undefined;
      }
      if (!printedHeader) {
        out.info(epochTableHeader(hasValid));
        printedHeader = true;
      }
      out.info(epochTableRow(e, e.elapsed - lastElapsed, hasValid));
      lastElapsed = e.elapsed;
    },
    stop() {
      bar?.stop();
    },
  };
}

/** What `collab train --json` prints. */
export interface TrainResult {
  data: string;
  model: ModelKind;
  nTrain: number;
  nValid: number;
  epochs: number;
  lr: number;
  schedule: string;
  options: Record<string, unknown>;
  config: Record<string, unknown>;
  validMse: number;
  validRmse: number;
  /** In-process training seconds (data loading and validation excluded). */
  trainSeconds: number;
  history: EpochStats[];
  /** Validation ids never seen in training: counted; the model predicts them from its untrained init. */
  cold?: { users: number; items: number; ratings: number };
  /** Where the model was saved (--out). */
  modelFile?: string;
  /** The process's peak resident memory so far, in MB (data loading and training; a benchmark reads it). */
  peakRssMb?: number;
  /** Where the loss plot was written (--plot). */
  plot?: string;
}

/** What both `train` and `lr-find` build from the flags: the data, the model kind (the same default) and its options, side features included. */
async function prepareTraining(flags: TrainFlags): Promise<{ data: LoadedData; kind: ModelKind; epochs: number; lr: number; schedule: 'one-cycle' | 'constant'; options: CollabLearnerOptions }> {
  learnerOptions(flags); // bad flags fail before any data is read
  if (flags.out !== undefined) checkSaveTarget(flags.out); // an unwritable --out fails before training, not after
  const data = await loadTrainingData(flags);
  const { kind, epochs, lr, schedule, options } = learnerOptions({ ...flags, model: flags.model ?? defaultModelFor(data) });
  if (MODEL_REGISTRY[kind].sideFeatures) {
    // Side features of every known user and movie (ids of both splits), so new ones still get a representation.
    const userKinds = parseFeatureKinds(flags.userFeatures ?? (data.users.size > 0 ? 'age,gender,occupation,zip' : 'none'), USER_FEATURE_KINDS, 'user-features');
    const itemKinds = parseFeatureKinds(flags.itemFeatures ?? (data.items.size > 0 ? 'genres,year,tags' : 'none'), ITEM_FEATURE_KINDS, 'item-features');
    options.modelConfig = {
      ...options.modelConfig,
      userFeatures: buildUserFeatures(data.train.userIds, data.users, userKinds),
      itemFeatures: buildItemFeatures(data.train.itemIds, data.items, itemKinds),
    };
  } else if (flags.userFeatures !== undefined || flags.itemFeatures !== undefined || flags.pickFactors !== undefined) {
    const flag = flags.pickFactors !== undefined ? 'pick-factors' : 'user-features';
    throw new CollabError('USAGE', `--user-features, --item-features and --pick-factors are for --model hybrid (this is ${kind}${flags.model ? '' : ': the data has no metadata'})`, { field: flag });
  }
  return { data, kind, epochs, lr, schedule, options };
}

/** Trains per the flags; the learner is returned too so saving (once model files land) is one call on it. */
export async function trainFromFlags(flags: TrainFlags, out: Reporter): Promise<{ result: TrainResult; learner: CollabLearner }> {
  const { data, kind, epochs, lr, schedule, options } = await prepareTraining(flags);
  out.info(`${data.name}: ${data.train.ratings.length} training ratings, ${data.valid?.ratings.length ?? 0} validation ratings`);
  if (data.cold && data.cold.ratings > 0) {
    const how = MODEL_REGISTRY[kind].sideFeatures ? `the ${kind} predicts them from their features (users: their id rows stay untrained)` : 'the model keeps their untrained init for them';
    out.info(`validation has ${data.cold.users} users and ${data.cold.items} movies not in training (${data.cold.ratings} ratings): ${how}`);
  }
  const optimizer = options.optimizer ?? TRAIN_DEFAULTS[kind].optimizer;
  const wdNote = wdHint(kind, optimizer, flags.wd !== undefined, data.train.ratings.length);
  if (wdNote) out.info(wdNote);
  const report = reporting(out, (data.valid?.ratings.length ?? 0) > 0);
  const learner = collabLearner(data.train, data.valid, { ...options, onEpoch: report.onEpoch, onBatch: report.onBatch });
  if (options.wd === 'auto') out.info(`wd auto: ${learner.wd} (${wdAutoReason(kind, optimizer, learner.wd, data.train.ratings.length)})`);
  if (options.threads === undefined && learner.threads > 1 && !MODEL_REGISTRY[kind].sideFeatures) {
    out.info(`${learner.threads} threads: the tables and their training state pass ${CACHE_FIT_BYTES / 2 ** 20} MiB, where two cores reach memory faster than one (the same model as on one thread; --threads 1 for one)`);
  }
  try {
    if (schedule === 'one-cycle') await learner.fitOneCycle(epochs, lr);
    else await learner.fit(epochs, lr);
  } catch (err) {
    await learner.close(); // its worker threads would keep the process alive
    throw err;
  } finally {
    report.stop();
  }
  const last = learner.history[learner.history.length - 1]!;
  if (learner.history.length < epochs) out.info(`trained ${learner.history.length} of ${epochs} epochs: $COLLAB_MAX_EPOCHS caps them (for tests)`);
  const result: TrainResult = {
    data: data.name,
    model: kind,
    nTrain: data.train.ratings.length,
    nValid: data.valid?.ratings.length ?? 0,
    epochs,
    lr,
    schedule,
    options: { nFactors: options.nFactors, batchSize: options.batchSize, optimizer: options.optimizer, wd: learner.wd, momentum: options.momentum, seed: options.seed, threads: learner.threads, biasDecay: options.biasDecay },
    config: learner.model.config(),
    validMse: last.validMse,
    validRmse: last.validRmse,
    trainSeconds: learner.trainSeconds,
    history: learner.history,
  };
  if (data.cold) result.cold = data.cold;
  if ((data.valid?.ratings.length ?? 0) === 0) {
    out.info(`no validation ratings (train loss ${last.trainLoss.toFixed(4)}) after ${learner.trainSeconds.toFixed(2)} s of training`);
  } else out.info(`valid MSE ${last.validMse.toFixed(4)} (RMSE ${last.validRmse.toFixed(4)}) after ${learner.trainSeconds.toFixed(2)} s of training`);
  if (flags.out) {
    saveTrainedModel(flags.out, {
      model: learner.model,
      train: data.train,
      // the validation part is rated too: recommendations must not offer it back
      ...(data.valid && data.valid.ratings.length > 0 ? { seen: { users: data.valid.users, items: data.valid.items } } : {}),
      items: data.items,
      history: { epochs: learner.history, batchLosses: learner.batchLosses },
      ...(data.dataset ? { dataset: data.dataset } : {}),
    });
    result.modelFile = flags.out;
    out.info(`model saved to ${flags.out}`);
  }
  if (flags.plot) {
    await writePlot(flags.plot, lossChart({ batchLosses: learner.batchLosses, epochs: learner.history, title: `${kind} on ${data.name}: training and validation loss` }));
    result.plot = flags.plot;
    out.info(`loss plot written to ${flags.plot}`);
  }
  await learner.close();
  // maxRSS is in kilobytes; it covers every thread of the process (the training workers are threads)
  result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return { result, learner };
}

function withTrainingFlags(cmd: Command): Command {
  return withReadFlags(cmd)
    .option('--data <name|path>', 'dataset name (ml-100k, ml-latest-small, ...) or ratings file (user,item,rating CSV, u.data TSV, :: .dat)')
    .option('--db <file-or-url>', 'train on every rating in a service database (SQLite file or postgres:// URL), ratings given through the API included')
    .option('--valid <file>', 'validation ratings file (ids shared with --data); default: split off --valid-pct')
    .option('--valid-pct <p>', `fraction held out for validation when --valid is not given (default ${LIBRARY_DEFAULTS.validPct})`)
    .option('--seed <n>', `seed for the split, the init and the shuffling (default ${LIBRARY_DEFAULTS.seed})`)
    .addOption(new Option('--model <kind>', `model: ${modelChoicesHelp()}`).choices(modelChoices()))
    .option('--user-features <list>', 'hybrid: user features from age, gender, occupation, zip (default all when the dataset has demographics; "none")')
    .option('--item-features <list>', 'hybrid: movie features from genres, year, tags, title (default genres,year,tags when the data has movie metadata)')
    .option('--pick-factors <k>', 'hybrid: width of the pick head, which ranks by what people like the user watch (default: --factors; 0 leaves it out and trains about 3x faster)')
    .option('--factors <k>', `embedding width (default ${defaultsByKind('nFactors')})`)
    .option('--bs <n>', `batch size (default ${defaultsByKind('batchSize')})`)
    .option('--optimizer <sgd|adam>', `optimizer: adam = AdamW, betas 0.9/0.99, eps 1e-5 (default ${defaultsByKind('optimizer')})`)
    .option('--wd <x|auto>', `weight decay (default ${defaultsByKind('wd')}); auto: the default scaled by ${WD_TUNED_RATINGS.toLocaleString('en-US')} / training ratings, never up (minibatch optimizers decay every row at every step; see the README's "Weight decay at scale")`)
    .option('--momentum <x>', 'momentum (SGD) or beta1 (Adam) for --schedule constant (default 0.9)')
    .option('--y-range <lo,hi>', 'sigmoid output range of dotbias (default 0,max rating+0.5)')
    .option('--bias-decay', 'apply weight decay to dotbias\'s bias tables too, as fastai does (default off)')
    .option('--emb-sizes <u,i>', 'nn: user and item embedding widths (default fastai\'s rule)')
    .option('--layers <n,...>', 'nn: hidden layer sizes (default 100)')
    .option('--dropout <p,...>', 'nn: dropout per hidden layer')
    .option('--threads <n>', `threads: mf trains that many blocks of its rating grid at a time (LIBMF's FPSGD), dot/dotbias split each batch's forward, backward and optimizer step between two threads (both the same model as one thread) (default ${DEFAULT_THREADS_TEXT})`)
    .option('--blocks <n|auto>', 'dot/dotbias with AdamW: train block by block on an n x n grid of user and movie bins (LIBMF\'s grid; faster on big tables, two threads train whole blocks, same result as one; on millions of ratings pair it with --wd auto: at the default wd the rows a block leaves idle decay too much); auto: only when the tables outgrow the cache (default 1: one shuffled order; mf always trains by blocks)');
}

/** Why `--wd auto` gave `wd`: scaled to the set, kept at a small size, or mf's per-rating reg (never scaled). */
function wdAutoReason(kind: ModelKind, optimizer: OptimizerKind, wd: number, nTrain: number): string {
  const base = TRAIN_DEFAULTS[kind].wd;
  if (perRatingReg(kind, optimizer)) return `${kind}'s per-rating reg, which decays a row only when it is rated: not scaled`;
  if (wd === base) return `${kind}'s ${base}, kept: ${nTrain.toLocaleString('en-US')} training ratings are no more than it was tuned on`;
  return `${kind}'s ${base} scaled by ${WD_TUNED_RATINGS.toLocaleString('en-US')} / ${nTrain.toLocaleString('en-US')} training ratings`;
}

/** --wd: a number, or "auto" (the recipe's wd scaled to the training set's size, see wdForSize). */
function wdFlag(text: string | undefined): number | 'auto' | undefined {
  if (text === undefined || text === 'auto') return text;
  if (text.trim() === '' || !Number.isFinite(Number(text))) throw new CollabError('USAGE', `--wd must be a number or "auto", got "${text}"`, { field: 'wd' });
  return Number(text);
}

/** --blocks: a bin count or "auto"; anything else names both forms. */
function blocksFlag(text: string | undefined): number | 'auto' | undefined {
  if (text === undefined || text === 'auto') return text;
  if (!/^\d+$/.test(text.trim())) throw new CollabError('USAGE', `--blocks must be a whole number of bins or "auto", got "${text}"`, { field: 'blocks' });
  return intFlag('blocks', text);
}

/** --epochs and --schedule: how train trains, and how lr-find tries the lrs it reads off its ramp. */
function withScheduleFlags(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', `epochs (default ${defaultsByKind('epochs')})`)
    .addOption(new Option('--schedule <kind>', `lr schedule (default ${defaultsByKind('schedule')})`).choices(['one-cycle', 'constant']));
}

/** Registers `collab train` and `collab lr-find`. */
export function registerTrainCommands(program: Command): void {
  const train = withTrainingFlags(program.command('train').description('train a rating model and report its validation error'))
    .option('--out <file>', 'save the trained model here (a JSON manifest plus <name>.<sha256>.weights.bin beside it; checked before training)')
    .option('--plot <file>', 'draw the training loss per batch and per epoch with the validation loss (.svg or .png)')
    .option('--lr <x>', `learning rate: the one-cycle peak, or the constant lr (default ${defaultsByKind('lr')})`);
  withScheduleFlags(train);
  withExamples(
    withCommonFlags(train),
    'collab train --data ml-latest-small --out model.json --plot losses.png',
    'collab train --db collab.sqlite --out model.json',
    'collab train --data ratings.csv --valid valid.csv --json',
    'collab train --data ml-latest-small --model dot --optimizer sgd --lr 0.1 --momentum 0.9 --wd 1e-5 --epochs 3 --bs 64',
  ).action(async (flags: TrainFlags) => {
    await runCommand(flags, async (out) => (await trainFromFlags(flags, out)).result);
  });

  const lrFind = withTrainingFlags(program.command('lr-find').description('sweep the learning rate exponentially: fastai\'s lr_find "valley", and a peak lr for the one-cycle schedule collab train uses'))
    .option('--start-lr <x>', 'first lr of the ramp (default 1e-7)')
    .option('--end-lr <x>', 'last lr of the ramp (default 10)')
    .option('--num-it <n>', 'batches of fastai\'s ramp, whose valley is shown (default 100)')
    .option('--cycle-it <n>', 'batches of the ramp the fit_one_cycle suggestion comes from (default one epoch, at least 100)')
    .option('--plot <file>', 'draw the loss against the learning rate with the suggestion (.svg or .png)');
  withScheduleFlags(lrFind);
  withExamples(withCommonFlags(lrFind), 'collab lr-find --data ml-100k --plot lr.png', 'collab lr-find --data ml-100k --bs 256 --json').action(async (flags: TrainFlags) => {
    await runCommand(flags, async (out) => {
      // the model train would train on these flags, built as train builds it (side features included)
      const { data, kind, epochs, schedule, options } = await prepareTraining(flags);
      out.info(`ramping ${kind}: ${flags.model !== undefined ? 'as --model says' : `the model collab train trains on ${data.name} by default`}`);
      // the ramp leaves a hybrid's pick head out, so the head's second thread would have nothing to do
      const learner = collabLearner(data.train, data.valid, { ...options, threads: options.threads ?? 1 });
      const startLr = numberFlag('start-lr', flags.startLr) ?? 1e-7;
      const endLr = numberFlag('end-lr', flags.endLr) ?? 10;
      const r = learner.lrFind({ startLr, endLr, numIt: intFlag('num-it', flags.numIt) ?? 100 });
      out.info(`lr-find on ${data.name} (${kind}, bs ${options.batchSize}): ${r.lrs.length} batches${r.diverged ? ', stopped when the loss diverged' : ''}; valley ${r.valley.toExponential(1)} (fastai), minimum/10 ${r.minimum.toExponential(1)}`);
      // fastai's 100-batch ramp barely trains the embeddings; a ramp over one epoch says what suits fitOneCycle
      const cycleIt = intFlag('cycle-it', flags.cycleIt) ?? oneCycleRampLength(data.train.ratings.length, options.batchSize!);
      const cycle = learner.lrFind({ startLr, endLr, numIt: cycleIt, holdSharedTables: true });
      await learner.close();
      const suggestion = await suggestLr(data.train, data.valid, options, { epochs, schedule }, cycle);
      const suggested = suggestion.lr;
      const fmt = (x: number) => x.toExponential(1);
      if (suggestion.trials.length > 0) {
        out.info(`tried the ramp's readings, ${epochs} epochs ${schedule} each, on the validation split: ${suggestion.trials.map((t) => `${t.rule} ${fmt(t.lr)} → valid MSE ${t.validMse.toFixed(4)}`).join(', ')}`);
      } else out.info('no validation ratings to try the readings on: minimum/10 untried');
      out.info(`suggested for ${schedule === 'one-cycle' ? 'fit_one_cycle' : 'fit'}: ${fmt(suggested)} (${suggestion.rule} of a ramp over ${cycle.lrs.length} batches${flags.cycleIt === undefined ? ', about one epoch' : ''})`);
      out.info(`use it with: collab train --data ${flags.data ?? '...'} --model ${kind} --lr ${fmt(suggested)}${flags.wd !== undefined ? ` --wd ${flags.wd}` : ''}`);
      if (flags.plot) {
        await writePlot(flags.plot, lrFinderChart({ lrs: cycle.lrs, losses: cycle.losses, suggestion: suggested, suggestionName: schedule === 'one-cycle' ? 'fit_one_cycle' : 'fit', title: `Learning rate finder: ${kind} on ${data.name} (one epoch)` }));
        out.info(`plot written to ${flags.plot}`);
      }
      return {
        data: data.name,
        model: kind,
        suggested,
        rule: suggestion.rule,
        trials: suggestion.trials,
        valley: r.valley,
        minimum: r.minimum,
        diverged: r.diverged,
        lrs: r.lrs,
        losses: r.losses,
        oneCycleRamp: { numIt: cycleIt, valley: cycle.valley, minimum: cycle.minimum, diverged: cycle.diverged, lrs: cycle.lrs, losses: cycle.losses },
      };
    });
  });
}
