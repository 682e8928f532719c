import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { CollabError, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import { selectRows, type Ratings } from '../data/ratings.js';
import { KNOWN_DATASETS, locateDataset } from '../data/locate.js';
import { readRatingsFile } from '../bench/read-split.js';
import type { ModelKind } from '../models/model.js';
import { MODEL_KINDS } from '../models/factory.js';
import { collabLearner, type CollabLearner, type CollabLearnerOptions, type EpochStats } from '../train/learner.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import type { OptimizerKind } from '../train/optimizers.js';
import { intFlag, numberFlag, runCommand, type GlobalFlags, type Reporter } from './command.js';
import { withCommonFlags, withExamples } from './program.js';

/** Flags of `collab train` and `collab lr-find` as commander hands them over (all text). */
interface TrainFlags extends GlobalFlags {
  data?: string;
  dataDir?: string;
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
  startLr?: string;
  endLr?: string;
  numIt?: string;
}

/** Training and validation ratings with shared id maps, plus where they came from. */
interface LoadedData {
  name: string;
  train: Ratings;
  valid: Ratings | undefined;
}

/**
 * Reads --data (a file, or a dataset name found in --data-dir / $COLLAB_DATA_DIR) and --valid, or splits off
 * --valid-pct with numpy's RandomState(seed).permutation (valid = the first pct, as make_split.py does).
 * Stand-in for the data layer's `loadDataset`: this is the one function to replace when it lands.
 */
function loadTrainingData(flags: TrainFlags): LoadedData {
  const data = flags.data;
  if (!data) throw new CollabError('USAGE', '--data is required: a dataset name (ml-100k, ml-latest-small, ...) or a ratings file', { field: 'data' });
  let path = data;
  if (!existsSync(data)) {
    const known = KNOWN_DATASETS[data];
    const dir = known ? locateDataset(data, flags.dataDir) : undefined;
    if (!known || !dir) {
      throw new CollabError(
        'NOT_FOUND',
        known
          ? `dataset ${data} is not in --data-dir, $COLLAB_DATA_DIR or the cache; run \`collab data fetch ${data}\` or set COLLAB_DATA_DIR`
          : `--data ${data} is neither a file nor a known dataset (${Object.keys(KNOWN_DATASETS).join(', ')})`,
        { field: 'data' },
      );
    }
    path = `${dir}/${known.format === 'csv' ? 'ratings.csv' : known.format === 'ml-100k' ? 'u.data' : 'ratings.dat'}`;
  }
  const all = readRatingsFile(path);
  if (flags.valid !== undefined) {
    const valid = readRatingsFile(flags.valid, all.userIds, all.itemIds);
    return { name: basename(data), train: all, valid };
  }
  const pct = requireNumber('valid-pct', numberFlag('valid-pct', flags.validPct) ?? 0.2, 0, 0.9);
  if (pct === 0) return { name: basename(data), train: all, valid: undefined };
  const seed = intFlag('seed', flags.seed) ?? 42;
  const perm = new RandomState(seed).permutation(all.ratings.length);
  const cut = Math.floor(all.ratings.length * pct);
  return { name: basename(data), train: selectRows(all, perm.subarray(cut)), valid: selectRows(all, perm.subarray(0, cut)) };
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
  const kind = (flags.model ?? 'dotbias') as ModelKind;
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
  const modelConfig: Record<string, unknown> = {};
  const embSizes = parseList('emb-sizes', flags.embSizes);
  const layers = parseList('layers', flags.layers);
  const dropout = parseList('dropout', flags.dropout);
  if (embSizes) modelConfig.embSizes = embSizes;
  if (layers) modelConfig.layers = layers;
  if (dropout) modelConfig.dropout = dropout;
  const options: CollabLearnerOptions = {
    model: kind,
    nFactors: intFlag('factors', flags.factors) ?? d.nFactors,
    batchSize: intFlag('bs', flags.bs) ?? d.batchSize,
    optimizer,
    wd: numberFlag('wd', flags.wd) ?? d.wd,
    momentum: numberFlag('momentum', flags.momentum) ?? d.momentum,
    seed: intFlag('seed', flags.seed) ?? 42,
    threads: intFlag('threads', flags.threads) ?? 1,
    biasDecay: flags.biasDecay ?? d.biasDecay,
    modelConfig,
  };
  if (yRange) options.yRange = [yRange[0]!, yRange[1]!];
  return { kind, epochs: intFlag('epochs', flags.epochs) ?? d.epochs, lr: numberFlag('lr', flags.lr) ?? d.lr, schedule, options };
}

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** fastai's epoch table: one header, one row per epoch. */
function epochTableHeader(): string {
  return ['epoch', 'train_loss', 'valid_loss', 'valid_rmse', 'time'].map((h) => pad(h, 11)).join('');
}

function epochTableRow(e: EpochStats, epochSeconds: number): string {
  return [String(e.epoch), e.trainLoss.toFixed(6), e.validMse.toFixed(6), e.validRmse.toFixed(6), formatTime(epochSeconds)].map((c) => pad(c, 11)).join('');
}

/** Learner callbacks that print the epoch table and, on a terminal, a progress bar. */
function reporting(out: Reporter): Pick<CollabLearnerOptions, 'onEpoch' | 'onBatch'> & { stop(): void } {
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
        out.info(epochTableHeader());
        printedHeader = true;
      }
      out.info(epochTableRow(e, e.elapsed - lastElapsed));
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
}

/** Trains per the flags; the learner is returned too so saving (once model files land) is one call on it. */
export async function trainFromFlags(flags: TrainFlags, out: Reporter): Promise<{ result: TrainResult; learner: CollabLearner }> {
  const { kind, epochs, lr, schedule, options } = learnerOptions(flags);
  const data = loadTrainingData(flags);
  const report = reporting(out);
  const learner = collabLearner(data.train, data.valid, { ...options, onEpoch: report.onEpoch, onBatch: report.onBatch });
  try {
    if (schedule === 'one-cycle') await learner.fitOneCycle(epochs, lr);
    else await learner.fit(epochs, lr);
  } finally {
    report.stop();
  }
  const last = learner.history[learner.history.length - 1]!;
  const result: TrainResult = {
    data: data.name,
    model: kind,
    nTrain: data.train.ratings.length,
    nValid: data.valid?.ratings.length ?? 0,
    epochs,
    lr,
    schedule,
    options: { nFactors: options.nFactors, batchSize: options.batchSize, optimizer: options.optimizer, wd: options.wd, momentum: options.momentum, seed: options.seed, threads: options.threads, biasDecay: options.biasDecay },
    config: learner.model.config(),
    validMse: last.validMse,
    validRmse: last.validRmse,
    trainSeconds: learner.trainSeconds,
    history: learner.history,
  };
  out.info(`valid MSE ${last.validMse.toFixed(4)} (RMSE ${last.validRmse.toFixed(4)}) after ${learner.trainSeconds.toFixed(2)} s of training`);
  return { result, learner };
}

function withTrainingFlags(cmd: Command): Command {
  return cmd
    .option('--data <name|path>', 'dataset name (ml-100k, ml-latest-small, ...) or ratings file (user,item,rating CSV, u.data TSV, :: .dat)')
    .option('--data-dir <dir>', 'folder holding unpacked datasets (default $COLLAB_DATA_DIR, then the cache)')
    .option('--valid <file>', 'validation ratings file (ids shared with --data); default: split off --valid-pct')
    .option('--valid-pct <p>', 'fraction held out for validation when --valid is not given (default 0.2)')
    .option('--seed <n>', 'seed for the split, the init and the shuffling (default 42)')
    .addOption(new Option('--model <kind>', 'model: dotbias (fastai EmbeddingDotBias), dot (the blog\'s EmbeddingDot), mf (biased MF, per-rating SGD)').choices(['dotbias', 'dot', 'mf', 'nn']))
    .option('--factors <k>', 'embedding width (default 50)')
    .option('--bs <n>', 'batch size (default 64)')
    .option('--optimizer <sgd|adam>', 'optimizer: adam = AdamW, betas 0.9/0.99, eps 1e-5 (default adam; sgd for dot and mf)')
    .option('--wd <x>', 'weight decay (default dotbias 0.2, dot 1e-5, mf 0.05)')
    .option('--momentum <x>', 'momentum (SGD) or beta1 (Adam) for --schedule constant (default 0.9)')
    .option('--y-range <lo,hi>', 'sigmoid output range of dotbias (default 0,max rating+0.5)')
    .option('--bias-decay', 'apply weight decay to dotbias\'s bias tables too, as fastai does (default off)')
    .option('--emb-sizes <u,i>', 'nn: user and item embedding widths (default fastai\'s rule)')
    .option('--layers <n,...>', 'nn: hidden layer sizes (default 100)')
    .option('--dropout <p,...>', 'nn: dropout per hidden layer')
    .option('--threads <n>', 'threads: mf runs Hogwild SGD (not bit-reproducible); dot/dotbias step user and item tables on two threads (same result) (default 1)');
}

/** Registers `collab train` and `collab lr-find`. */
export function registerTrainCommands(program: Command): void {
  const train = withTrainingFlags(program.command('train').description('train a rating model and report its validation error'))
    .option('--epochs <n>', 'epochs (default dotbias 6, dot 3, mf 8)')
    .option('--lr <x>', 'learning rate: the one-cycle peak, or the constant lr (default dotbias 4e-3, dot 0.1, mf 0.05)')
    .addOption(new Option('--schedule <kind>', 'lr schedule (default one-cycle; constant for dot)').choices(['one-cycle', 'constant']));
  withExamples(
    withCommonFlags(train),
    'collab train --data ml-latest-small',
    'collab train --data ratings.csv --valid valid.csv --json',
    'collab train --data ml-latest-small --model dot --optimizer sgd --lr 0.1 --momentum 0.9 --wd 1e-5 --epochs 3 --bs 64',
  ).action(async (flags: TrainFlags) => {
    await runCommand(flags, async (out) => (await trainFromFlags(flags, out)).result);
  });

  const lrFind = withTrainingFlags(program.command('lr-find').description('sweep the learning rate exponentially and suggest one (fastai\'s lr_find "valley")'))
    .option('--start-lr <x>', 'first lr of the ramp (default 1e-7)')
    .option('--end-lr <x>', 'last lr of the ramp (default 10)')
    .option('--num-it <n>', 'batches to run (default 100)');
  withExamples(withCommonFlags(lrFind), 'collab lr-find --data ml-100k', 'collab lr-find --data ml-100k --bs 256 --json').action(async (flags: TrainFlags) => {
    await runCommand(flags, async (out) => {
      const { kind, options } = learnerOptions(flags);
      const data = loadTrainingData(flags);
      const learner = collabLearner(data.train, data.valid, options);
      const r = learner.lrFind({
        startLr: numberFlag('start-lr', flags.startLr) ?? 1e-7,
        endLr: numberFlag('end-lr', flags.endLr) ?? 10,
        numIt: intFlag('num-it', flags.numIt) ?? 100,
      });
      out.info(`lr-find on ${data.name} (${kind}, bs ${options.batchSize}): ${r.lrs.length} batches${r.diverged ? ', stopped when the loss diverged' : ''}`);
      out.info(`suggested lr (valley): ${r.valley.toExponential(2)}   minimum/10: ${r.minimum.toExponential(2)}`);
      return { data: data.name, model: kind, valley: r.valley, minimum: r.minimum, diverged: r.diverged, lrs: r.lrs, losses: r.losses };
    });
  });
}
