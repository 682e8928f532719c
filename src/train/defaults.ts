import { CollabError } from '../core/errors.js';
import type { ModelKind } from '../models/model.js';
import { MODEL_REGISTRY, type AnyModelConfig } from '../models/registry.js';
import type { OptimizerKind } from './optimizers.js';
import { CACHE_FIT_BYTES } from '../kernels/param-memory.js';

/** A complete training recipe: what `collab train` runs when a flag is not given. */
export interface TrainRecipe {
  nFactors: number;
  epochs: number;
  /** Peak lr of the one-cycle schedule (or the constant lr). */
  lr: number;
  wd: number;
  batchSize: number;
  optimizer: OptimizerKind;
  schedule: 'one-cycle' | 'constant';
  momentum: number;
  /** Weight decay on the bias tables too (dotbias). */
  biasDecay: boolean;
}

/**
 * Defaults per model kind. dotbias: fastai's collab_learner recipe (50 factors, AdamW one-cycle, bs 64)
 * with weight decay 0.2 on the embeddings and none on the biases, 6 epochs at a peak lr of 4e-3. Against
 * fastai's own (wd 0.1 on every table, 5 epochs, lr 5e-3) it measured better on all three MovieLens
 * benchmarks, for four init seeds each: ml-100k 80/20 0.800-0.804 vs 0.808, ml-latest-small 0.709 vs 0.725,
 * ml-100k u1 0.828 vs 0.837 valid MSE. Dropping the bias decay was the largest gain (a rare item's bias is
 * the best thing known about it; decaying it every step pulls it to the middle of yRange). dot: the blog's
 * first model (SGD lr 0.1, momentum 0.9, wd 1e-5, 3 epochs). mf: per-rating Funk SGD over LIBMF's block grid, 10 epochs one-cycle to lr 0.07 with reg 0.08: on the
 * 80/20 splits valid MSE ml-100k 0.830, ml-latest-small 0.743 (8 epochs to 0.05 with reg 0.05 gave 0.844 and
 * 0.754; reg 0.07-0.1 beat 0.04-0.05 on both at every lr and epoch count tried; the generated 10M-rating set
 * prefers less, 0.04-0.05, and the scale benchmark trains it with LIBMF's own 0.05). hybrid: dotbias's recipe
 * (without side features it is dotbias, bit for bit).
 */
export const TRAIN_DEFAULTS: Record<ModelKind, TrainRecipe> = {
  dotbias: { nFactors: 50, epochs: 6, lr: 4e-3, wd: 0.2, batchSize: 64, optimizer: 'adam', schedule: 'one-cycle', momentum: 0.9, biasDecay: false },
  dot: { nFactors: 50, epochs: 3, lr: 0.1, wd: 1e-5, batchSize: 64, optimizer: 'sgd', schedule: 'constant', momentum: 0.9, biasDecay: true },
  mf: { nFactors: 50, epochs: 10, lr: 0.07, wd: 0.08, batchSize: 64, optimizer: 'sgd', schedule: 'one-cycle', momentum: 0.9, biasDecay: true },
  nn: { nFactors: 50, epochs: 5, lr: 5e-3, wd: 0.1, batchSize: 64, optimizer: 'adam', schedule: 'one-cycle', momentum: 0.9, biasDecay: true },
  hybrid: { nFactors: 50, epochs: 6, lr: 4e-3, wd: 0.2, batchSize: 64, optimizer: 'adam', schedule: 'one-cycle', momentum: 0.9, biasDecay: false },
};

/**
 * The settings that are not per kind, shared by `collab train` and {@link collabLearner}. The model: a
 * hybrid when the data carries movie metadata or user demographics (dotbias plus side-feature embeddings:
 * ml-100k valid MSE 0.789 vs 0.801, ml-latest-small 0.669 vs 0.709, u1 RMSE 0.900 vs 0.910), dotbias
 * otherwise (a hybrid without features is dotbias bit for bit, so nothing is lost). A library caller who
 * passes no side features gets dotbias.
 */
export const LIBRARY_DEFAULTS = {
  /** The model when the data has no side data (and the library's, which is given none). */
  model: 'dotbias' as ModelKind,
  /** The model when the data has movie metadata or user demographics. */
  modelWithSideData: 'hybrid' as ModelKind,
  /** Seed of the split, the init and the shuffling. */
  seed: 42,
  /** Share of the ratings held out for validation when no validation file is given. */
  validPct: 0.2,
} as const;

/** The model `collab train` trains when --model is not given: see {@link LIBRARY_DEFAULTS}. */
export function defaultModel(hasSideData: boolean): ModelKind {
  return hasSideData ? LIBRARY_DEFAULTS.modelWithSideData : LIBRARY_DEFAULTS.model;
}

/**
 * Threads a training run uses when none are asked for: 2 when the model keeps a second thread busy and the
 * machine has two cores, else 1. A hybrid's pick head always does; dot, dotbias and mf do once their tables and
 * training state (`stateBytes`) outgrow the cache (CACHE_FIT_BYTES), where each batch waits on memory and two cores
 * wait in parallel. Either way the model is the one-thread model, bit for bit.
 */
export function defaultThreads(kind: ModelKind, modelConfig: AnyModelConfig, cores: number, stateBytes = 0): number {
  const entry = MODEL_REGISTRY[kind] as { usesSecondThread?(config: AnyModelConfig, stateBytes: number): boolean };
  return entry.usesSecondThread?.(modelConfig, stateBytes) === true && cores > 1 ? 2 : 1;
}

/** One recipe field's default per kind, as help texts print it: "dotbias 0.2, dot 1e-5, ..." (one value when every kind shares it). */
export function defaultsByKind(field: keyof TrainRecipe): string {
  const text = (kind: ModelKind): string => {
    const value = TRAIN_DEFAULTS[kind][field];
    return typeof value === 'number' ? short(value) : String(value);
  };
  const kinds = Object.keys(TRAIN_DEFAULTS) as ModelKind[];
  const values = new Set(kinds.map(text));
  if (values.size === 1) return [...values][0]!;
  return kinds.map((kind) => `${kind} ${text(kind)}`).join(', ');
}

// Small rates as people write them (4e-3, 1e-5), the others as they are.
function short(x: number): string {
  return x < 0.01 ? x.toExponential() : String(x);
}

/**
 * The README's line of `collab train` defaults (the dotbias recipe the hybrid shares), from {@link TRAIN_DEFAULTS}.
 */
export function defaultsLine(): string {
  const d = TRAIN_DEFAULTS[LIBRARY_DEFAULTS.model];
  const optimizer = d.optimizer === 'adam' ? 'AdamW' : 'SGD';
  return `# train (defaults: ${LIBRARY_DEFAULTS.modelWithSideData} when the data has metadata, else ${LIBRARY_DEFAULTS.model}; ${d.nFactors} factors, ${optimizer} ${d.schedule},\n` +
    `# bs ${d.batchSize}, ${d.epochs} epochs, lr ${short(d.lr)}, wd ${short(d.wd)} on the embeddings, ${d.biasDecay ? 'the same' : 'none'} on the biases,\n` +
    `# threads ${DEFAULT_THREADS_TEXT})`;
}

/** How the default thread count reads in help texts and the README. */
export const DEFAULT_THREADS_TEXT = `2 on two cores for a hybrid's pick head, or tables and their training state past ${CACHE_FIT_BYTES / 2 ** 20} MiB; else 1`;

/**
 * The README's table of training defaults, one row per kind, made from {@link TRAIN_DEFAULTS} (a test
 * checks the README holds exactly this text).
 */
export function defaultsTable(): string {
  const rows = (Object.keys(TRAIN_DEFAULTS) as ModelKind[]).map((kind) => {
    const d = TRAIN_DEFAULTS[kind];
    const optimizer = d.optimizer === 'adam' ? 'AdamW' : 'SGD';
    return `| ${kind} | ${MODEL_REGISTRY[kind].summary} | ${d.nFactors} | ${d.epochs} | ${optimizer} ${d.schedule} | ${short(d.lr)} | ${short(d.wd)} | ${!MODEL_REGISTRY[kind].biases ? '(no biases)' : d.biasDecay ? 'yes' : 'no'} | ${d.batchSize} | ${d.momentum} |`;
  });
  return [
    '| model | what it is | factors | epochs | optimizer, schedule | lr | wd | wd on biases | bs | momentum |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * Epochs a training run really makes: `epochs`, capped by $COLLAB_MAX_EPOCHS when it is set. The README
 * walk-through test sets it to 1 so every example runs within its time budget on a small machine; it is
 * meant for tests only (the figures such a run prints are not the documented ones).
 */
export function cappedEpochs(epochs: number): number {
  const text = process.env.COLLAB_MAX_EPOCHS;
  if (text === undefined || text === '') return epochs;
  const cap = Number(text);
  if (!Number.isInteger(cap) || cap < 1) throw new CollabError('INVALID_OPTION', `COLLAB_MAX_EPOCHS must be an integer >= 1, got "${text}"`, { field: 'COLLAB_MAX_EPOCHS' });
  return Math.min(epochs, cap);
}

/** Training ratings of the set the AdamW recipes' wd was tuned on (ml-100k's 80/20 split: 80,000). */
export const WD_TUNED_RATINGS = 80_000;

/**
 * A wd for AdamW on `nTrain` training ratings that decays a table's rows as much per epoch as `wd` does on
 * WD_TUNED_RATINGS: AdamW decays every row at every step, so on 100 times the ratings (100 times the steps
 * an epoch) a row decays 100 times as much per epoch, though it is rated only a few times as often.
 * Two significant digits; `wd` itself at or below the tuned size.
 */
export function wdForSize(wd: number, nTrain: number): number {
  if (nTrain <= WD_TUNED_RATINGS) return wd;
  return Number(((wd * WD_TUNED_RATINGS) / nTrain).toPrecision(2));
}

/** Whether `kind` under `optimizer` trains by per-rating SGD (mf's Funk SGD), whose reg decays a row only when it is rated. */
export function perRatingReg(kind: ModelKind, optimizer: OptimizerKind): boolean {
  return MODEL_REGISTRY[kind].perRatingSgd === true && optimizer === 'sgd';
}

/** A default wd below this decays too little to matter at any size (dot's 1e-5): no note for it. */
const NOTABLE_WD = 1e-3;

/**
 * What `collab train` says when a minibatch optimizer trains with the kind's default wd on at least 10 times
 * the ratings that wd was tuned on (the note names the size-scaled wd); undefined otherwise.
 */
export function wdHint(kind: ModelKind, optimizer: OptimizerKind, wdGiven: boolean, nTrain: number): string | undefined {
  const wd = TRAIN_DEFAULTS[kind].wd;
  if (wdGiven || perRatingReg(kind, optimizer) || wd < NOTABLE_WD || nTrain < 10 * WD_TUNED_RATINGS) return undefined;
  const times = Math.round(nTrain / WD_TUNED_RATINGS);
  return (
    `note: wd ${wd} is tuned on ${WD_TUNED_RATINGS.toLocaleString('en-US')} ratings; ${optimizer === 'adam' ? 'AdamW' : 'SGD'} decays every row at every step, ` +
    `so on ${times}x the ratings, rows decay ${times}x as much per epoch. --wd auto (here ${wdForSize(wd, nTrain)}) keeps each row's ` +
    `decay per epoch as on ${WD_TUNED_RATINGS.toLocaleString('en-US')} ratings (README, "Weight decay at scale")`
  );
}
