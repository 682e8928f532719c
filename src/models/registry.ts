import { CollabError } from '../core/errors.js';
import { CACHE_FIT_BYTES } from '../kernels/param-memory.js';
import type { ModelKind, RatingModel } from './model.js';
import { EmbeddingDot, type DotOptions } from './dot.js';
import { EmbeddingDotBias, type DotBiasOptions } from './dotbias.js';
import { BiasedMF, type MFOptions } from './mf.js';
import { EmbeddingNN, type EmbeddingNNOptions } from './nn.js';
import { HybridModel, type HybridOptions } from './hybrid.js';

/** The architecture settings of each model kind (what its constructor takes and its `config()` gives back). */
export interface ModelConfigs {
  dot: DotOptions;
  dotbias: DotBiasOptions;
  nn: EmbeddingNNOptions;
  mf: MFOptions;
  hybrid: HybridOptions;
}

/**
 * Architecture settings for any kind, typed: what a caller passes as a learner's `modelConfig` (each kind
 * reads the settings it has; nn's embSizes, layers and ps, the hybrid's feature tables and pickFactors, ...).
 */
export type AnyModelConfig = Partial<DotOptions & DotBiasOptions & EmbeddingNNOptions & MFOptions & HybridOptions>;

/** What a learner knows of its training data and recipe when it sets a new model up. */
export interface TrainingFacts {
  /** Lowest and highest training rating, and their mean. */
  min: number;
  max: number;
  mean: number;
  /** The sigmoid output range asked for (the learner's default: [0, max + 0.5]). */
  yRange: [number, number];
  /** Whether weight decay applies to the bias tables (the recipe's, or the caller's). */
  biasDecay: boolean;
}

/** One model kind: how to build it and which settings it takes from the data. */
export interface ModelEntry<K extends ModelKind> {
  readonly kind: K;
  /** One line for help texts: what the model is. */
  readonly summary: string;
  /** Whether the model has user and item bias tables (what `biasDecay` would decay). */
  readonly biases: boolean;
  /**
   * Whether the model takes side features (`userFeatures`, `itemFeatures` tables) and a pick head
   * (`pickFactors`), so it predicts users and movies without training ratings from their features.
   */
  readonly sideFeatures?: boolean;
  /**
   * Whether its 'sgd' optimizer is per-rating SGD (mf's Funk SGD over the block grid), whose reg decays a row
   * only when it is rated; a minibatch optimizer decays every row at every step.
   */
  readonly perRatingSgd?: boolean;
  /** A fresh model for nUsers × nItems with architecture `config` and an init seed. */
  create(nUsers: number, nItems: number, config: ModelConfigs[K], seed: number): RatingModel;
  /** The settings this kind takes from the training data (y-range, bias decay, global mean, clip range). */
  fromData(facts: TrainingFacts): ModelConfigs[K];
  /** A config as `config()` wrote it to JSON, typed (mf's infinite clip ends are written as null). */
  parse(config: Record<string, unknown>): ModelConfigs[K];
  /** Settings that model files written before they existed lack, with the value that reproduces those files. */
  readonly savedDefaults?: Partial<ModelConfigs[K]>;
  /**
   * Whether training with this config keeps a second thread busy when there is one (a hybrid's pick head; the
   * factor models' tables once their training state, `stateBytes`, outgrows the cache).
   */
  usesSecondThread?(config: Partial<ModelConfigs[K]>, stateBytes: number): boolean;
}

/** The factor models keep a second thread busy once their tables and training state outgrow the cache (then every batch waits on memory). */
function outgrowsCache(_config: unknown, stateBytes: number): boolean {
  return stateBytes > CACHE_FIT_BYTES;
}

/** The model registry: every kind collab can train, keyed by kind. A new kind is its own file plus one entry here. */
export const MODEL_REGISTRY: { readonly [K in ModelKind]: ModelEntry<K> } = {
  dot: {
    kind: 'dot',
    biases: false,
    summary: "the blog's EmbeddingDot",
    create: (nUsers, nItems, config, seed) => new EmbeddingDot(nUsers, nItems, config, seed),
    fromData: () => ({}),
    parse: (config) => config as DotOptions,
    usesSecondThread: outgrowsCache,
  },
  dotbias: {
    kind: 'dotbias',
    biases: true,
    summary: 'fastai EmbeddingDotBias',
    create: (nUsers, nItems, config, seed) => new EmbeddingDotBias(nUsers, nItems, config, seed),
    fromData: (facts) => ({ yRange: facts.yRange, biasDecay: facts.biasDecay }),
    parse: (config) => config as DotBiasOptions,
    usesSecondThread: outgrowsCache,
  },
  nn: {
    kind: 'nn',
    biases: false,
    summary: 'fastai EmbeddingNN',
    create: (nUsers, nItems, config, seed) => new EmbeddingNN(nUsers, nItems, config, seed),
    fromData: (facts) => ({ yRange: facts.yRange }),
    parse: (config) => config as EmbeddingNNOptions,
  },
  mf: {
    kind: 'mf',
    biases: true,
    summary: 'biased MF, per-rating SGD',
    perRatingSgd: true,
    create: (nUsers, nItems, config, seed) => new BiasedMF(nUsers, nItems, config, seed),
    fromData: (facts) => ({ globalMean: facts.mean, clip: [facts.min, facts.max] }),
    parse: (config) => {
      const clip = config.clip as (number | null)[] | undefined;
      const options = { ...(config as MFOptions) };
      if (clip) options.clip = [clip[0] ?? -Infinity, clip[1] ?? Infinity];
      return options;
    },
    usesSecondThread: outgrowsCache,
  },
  hybrid: {
    kind: 'hybrid',
    biases: true,
    sideFeatures: true,
    summary: 'dotbias plus side-feature embeddings, LightFM-style',
    create: (nUsers, nItems, config, seed) => new HybridModel(nUsers, nItems, config, seed),
    fromData: (facts) => ({ yRange: facts.yRange, biasDecay: facts.biasDecay }),
    parse: (config) => config as HybridOptions,
    // files from before the pick head and the cold movie tables have neither
    savedDefaults: { pickFactors: 0, coldItemTables: false },
    usesSecondThread: (config) => (config.pickFactors ?? 1) !== 0,
  },
};

/** The model kinds {@link createModel} can build in this build, in the registry's order. */
export const MODEL_KINDS = Object.keys(MODEL_REGISTRY) as readonly ModelKind[];

/** Whether `kind` names a model of the registry. */
export function isModelKind(kind: string): kind is ModelKind {
  return Object.prototype.hasOwnProperty.call(MODEL_REGISTRY, kind);
}

/** The registry entry of `kind`; an unknown kind is an INVALID_OPTION naming the ones there are. */
export function modelEntry(kind: string): ModelEntry<ModelKind> {
  if (!isModelKind(kind)) {
    throw new CollabError('INVALID_OPTION', `model kind "${kind}" is not available; use one of ${MODEL_KINDS.join(', ')}`, { field: 'model' });
  }
  return MODEL_REGISTRY[kind] as unknown as ModelEntry<ModelKind>;
}
