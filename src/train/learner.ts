import { performance } from 'node:perf_hooks';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import type { RawId } from '../data/id-map.js';
import { gatherColumns, type ItemMeta, type Ratings } from '../data/ratings.js';
import { saveTrainedModel, type TrainedModel } from '../io/trained-model.js';
import type { ModelManifest } from '../io/model-file.js';
import { createModel, paramTables, type ParamTable } from '../models/factory.js';
import { BiasedMF } from '../models/mf.js';
import { FactorModel } from '../models/factor-kernels.js';
import type { ModelKind, RatingModel } from '../models/model.js';
import { runLrFind, type LrFindOptions, type LrFindResult } from './lr-find.js';
import { makeOptimizer, type Optimizer, type OptimizerKind } from './optimizers.js';
import { constant, oneCycle, type OneCycleOptions, type Schedule } from './schedules.js';
import { BlockedSgd } from './blocked-sgd.js';
import { LIBRARY_DEFAULTS, TRAIN_DEFAULTS, cappedEpochs, defaultThreads, perRatingReg, wdForSize } from './defaults.js';
import { CACHE_FIT_BYTES, trainingBytes } from '../kernels/param-memory.js';
import { isModelKind, modelEntry, type AnyModelConfig } from '../models/registry.js';
import { SplitParallelOptimizer, splitsBySide } from './split-parallel.js';
import { PickParallel, pickCanRunElsewhere, withPickFlush } from './pick-parallel.js';
import { HybridModel } from '../models/hybrid.js';
import type { Param } from '../models/model.js';
import { availableParallelism } from 'node:os';
import { blockGrid, blockRounds, shuffleWithinBlocks, type BlockGrid } from '../data/blocks.js';
import { BlockParallel, blockParallelFits } from './block-parallel.js';
import { AdamW } from './optimizers.js';
import { EmbeddingDot } from '../models/dot.js';
import { EmbeddingDotBias } from '../models/dotbias.js';
import { ModelRecommender, type ModelRecommenderOptions } from '../recommend/recommender.js';

/** Options of {@link CollabLearner.recommender}: the recommender's, and the movies' metadata. */
export interface LearnerRecommenderOptions extends ModelRecommenderOptions {
  /** Titles, years and genres by raw item id (a dataset's `items`), for the answers and explanations. Default none. */
  items?: Map<RawId, ItemMeta>;
}

/** Options of {@link CollabLearner.lrFind}: the ramp's, and which tables it trains. */
export interface LearnerLrFindOptions extends LrFindOptions {
  /**
   * Leave the tables nearly every batch touches (a hybrid's side-feature and cold movie tables) untrained
   * during the ramp, so its loss shows where the id rows learn. Those tables learn in a few hundred batches
   * at any lr: trained in the ramp, they make a hybrid's loss fall from 4e-4 and bottom out at 1.3e-2 on
   * ml-100k, and every reading of that curve (1.6e-3 to 2.3e-3) trains worse than the default 4e-3 (valid
   * MSE 0.800 to 0.827 against 0.782); held, the curve is dotbias's and its readings span 4e-3. Default false.
   */
  holdSharedTables?: boolean;
}

/** One row of the training history (the fastai-like epoch table). */
export interface EpochStats {
  /** 0-based epoch number, counted across fit calls. */
  epoch: number;
  /** Mean squared error over the epoch's training batches (as they were trained). */
  trainLoss: number;
  /** MSE on the validation ratings after the epoch (NaN without validation data). */
  validMse: number;
  validRmse: number;
  /** Training seconds so far (batches, optimizer and flushes; validation excluded). */
  elapsed: number;
}

/** Options of {@link collabLearner}; per-kind defaults come from {@link TRAIN_DEFAULTS}. */
export interface CollabLearnerOptions {
  /** Model kind. Default 'dotbias' ({@link LIBRARY_DEFAULTS}; `collab train` picks hybrid for data with side data). */
  model?: ModelKind;
  /** Embedding width. Default 50. */
  nFactors?: number;
  /** Output range of dotbias/nn. Default [0, max rating + 0.5] (fastai's collab_learner, torch_collab.py). */
  yRange?: [number, number];
  /** Ratings per minibatch (mf's per-rating SGD takes a new lr each round of its block grid instead). Default 64. */
  batchSize?: number;
  /** 'adam' (AdamW) or 'sgd'; for mf, 'sgd' is per-rating Funk SGD. Default 'adam' ('sgd' for dot and mf). */
  optimizer?: OptimizerKind;
  /**
   * Weight decay (AdamW decoupled, SGD coupled L2, mf per-rating L2 reg). Default per kind ({@link TRAIN_DEFAULTS}):
   * 0.2 for dotbias and hybrid, 1e-5 dot, 0.08 mf, 0.1 nn. 'auto': the kind's default scaled to the training set's
   * size ({@link wdForSize}; mf's per-rating reg as it is), since minibatch optimizers decay every row at every
   * step and a big set has many steps between two ratings of a row.
   */
  wd?: number | 'auto';
  /** Whether weight decay also applies to dotbias's and the hybrid's bias tables (fastai: yes). Default false. */
  biasDecay?: boolean;
  /** Momentum (SGD) or beta1 (Adam) used by `fit`; fitOneCycle cycles 0.95-0.85-0.95. Default 0.9. */
  momentum?: number;
  /** Seed for init and shuffling. Default 42. */
  seed?: number;
  /**
   * Threads. 2+: mf's per-rating SGD trains that many blocks of the rating grid at a time (LIBMF's FPSGD;
   * the same model as one thread, bit for bit); dot and dotbias split each batch's forward, backward and
   * optimizer step between two threads, other minibatch models step their user and item tables on two, and a
   * hybrid trains its pick head on a second thread (all the same result as one thread). Default
   * {@link defaultThreads}: 2 on two cores for a hybrid with a pick head, and for dot, dotbias and mf once their
   * tables and training state outgrow the cache; else 1.
   */
  threads?: number;
  /**
   * Predict a damped mean rating for a (user, item) pair where either side had no training ratings, instead of
   * the model's own prediction from untrained rows. Default false: on the MovieLens splits the model's
   * prediction (user bias plus an untrained item) measured slightly better than the damped mean.
   */
  unseenFallback?: boolean;
  /** Extra architecture settings passed to the model (e.g. nn's embSizes, layers, dropout). Default {}. */
  modelConfig?: AnyModelConfig;
  /**
   * AdamW's kernels: 'wasm' (float32 SIMD rows in each param's WebAssembly memory, on one thread or two) or
   * 'js' (the float64 JS loops, collab's arithmetic before the kernels). Default 'wasm'.
   */
  kernels?: 'wasm' | 'js';
  /**
   * Cache blocking (LIBMF's FPSGD grid, see data/blocks): with n ≥ 2 the ratings are cut into n × n blocks by
   * user bin and movie bin, and each epoch trains block after block (Latin-square rounds, a fresh order inside
   * each block), no batch spanning two blocks, so a batch's rows and their optimizer state stay in cache; with
   * threads 2, dot and dotbias under AdamW then train each round's blocks on two threads (the one-thread result).
   * 1 keeps the epoch-wide shuffle. 'auto': 1 while the model's embedding tables and their AdamW state fit in
   * {@link CACHE_FIT_BYTES}, else about one bin per {@link BYTES_PER_BIN} of them. Default 1. On 10M generated
   * ratings blocked dotbias trains 2-3x faster per epoch; with the default wd to a worse valid MSE (one epoch:
   * 0.660 against 0.628: AdamW keeps decaying the rows a block leaves idle), with wd 'auto' to a better one
   * (0.339 against 0.352).
   */
  blocks?: number | 'auto';
  /** Called after each epoch with its row of the history. Default none. */
  onEpoch?: (stats: EpochStats) => void;
  /** Called after each batch with (batches done, batches in this fit). Default none. */
  onBatch?: (done: number, total: number) => void;
}


/** Bytes of tables and state per bin once blocking is on: a block's user rows and movie rows then fit in a core's L2 cache. */
export const BYTES_PER_BIN = 2 ** 20;

/** Bins of the cache-blocking grid for `options.blocks` (see {@link CollabLearnerOptions.blocks}). */
export function blockBins(blocks: number | 'auto', params: readonly Param[], nUsers: number, nItems: number): number {
  if (blocks !== 'auto') return Math.max(1, Math.min(requireInt('blocks', blocks, 1, 1024), nUsers, nItems));
  let bytes = 0;
  for (const p of params) if (p.sparse) bytes += trainingBytes(p.rows, p.cols);
  if (bytes <= CACHE_FIT_BYTES) return 1;
  return Math.max(1, Math.min(Math.ceil(bytes / BYTES_PER_BIN), 256, nUsers, nItems));
}

/** Min, max and mean of a rating column. */
export function ratingStats(r: Ratings): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const y = r.ratings;
  for (let j = 0; j < y.length; j++) {
    const v = y[j]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / y.length };
}

/** A model, its optimizer and its data: fastai's Learner for collaborative filtering. */
export class CollabLearner {
  readonly model: RatingModel;
  readonly optimizer: Optimizer;
  /** One row per epoch trained, across fit calls. */
  readonly history: EpochStats[] = [];
  /** Mean squared error of every training batch, in order. */
  readonly batchLosses: number[] = [];
  /** Seconds spent training so far (excluding validation). */
  trainSeconds = 0;
  readonly batchSize: number;
  readonly wd: number;
  readonly momentum: number;
  readonly threads: number;
  readonly seed: number;
  private readonly rng: RandomState;
  private readonly order: Int32Array;
  private readonly perRating: boolean;
  /** Bins of the cache-blocking grid (1: one shuffled order per epoch). */
  readonly bins: number;
  private grid: BlockGrid | undefined;
  /** Batch boundaries in `order` of the current epoch when blocked (a batch never spans two blocks). */
  private batchEnds: Int32Array | undefined;
  /** Batches of the current epoch when blocked (it varies a little from epoch to epoch). */
  private blockedNb = 0;
  /**
   * What batches read through `order`: a copy of the training columns, either stored block by block (blocked
   * training) or rewritten in each epoch's shuffled order (then `order` is the identity), so a batch reads its
   * ratings from one short stretch of memory instead of gathering them from all over the table; per-rating mf
   * reads the training ratings themselves.
   */
  private batchData: Ratings;
  /** Per round of the current epoch: its first batch, the first batch of its second half of blocks; then the epoch's end. */
  private roundCuts: Int32Array | undefined;
  /** Blocked training on two threads (dot and dotbias with AdamW on shared tables), when threads > 1 and bins > 1. */
  private blockParallel: BlockParallel | undefined;
  private readonly onEpoch: ((stats: EpochStats) => void) | undefined;
  private readonly onBatch: ((done: number, total: number) => void) | undefined;
  private pickParallel: PickParallel | undefined;
  /** The two-thread optimizer when it also runs each batch's forward and backward (dot and dotbias on two threads). */
  private readonly splitBatches: SplitParallelOptimizer | undefined;
  private readonly sideReady: Promise<void> | undefined;
  /** Training ratings per user / item, and the damped means used for pairs the model never saw. */
  private readonly userCount: Int32Array;
  private readonly itemCount: Int32Array;
  private readonly userMean: Float32Array;
  private readonly itemMean: Float32Array;
  readonly globalMean: number;
  readonly unseenFallback: boolean;

  constructor(
    readonly train: Ratings,
    readonly valid: Ratings | undefined,
    options: CollabLearnerOptions = {},
  ) {
    const n = train.ratings.length;
    if (n === 0) throw new CollabError('INVALID_OPTION', 'the training data has no ratings; check the data file', { field: 'data' });
    if (valid && (valid.userIds !== train.userIds || valid.itemIds !== train.itemIds)) {
      throw new CollabError(
        'INVALID_OPTION',
        'the validation ratings must share the training ratings\' id maps; load both with the same IdMaps (or split one table)',
        { field: 'valid' },
      );
    }
    const kind = options.model ?? LIBRARY_DEFAULTS.model;
    const recipe = TRAIN_DEFAULTS[kind];
    if (!recipe || !isModelKind(kind)) {
      throw new CollabError('INVALID_OPTION', `model must be one of ${Object.keys(TRAIN_DEFAULTS).join(', ')}, got "${String(kind)}"`, { field: 'model' });
    }
    this.batchSize = requireInt('batchSize', options.batchSize ?? recipe.batchSize, 1);
    this.momentum = requireNumber('momentum', options.momentum ?? recipe.momentum, 0, 1);
    this.seed = requireInt('seed', options.seed ?? LIBRARY_DEFAULTS.seed, 0, 0xffffffff);
    // a hybrid's pick head, and the tables of a big catalogue, train on a second thread when there is one (the same
    // result as one thread)
    const entry = modelEntry(kind);
    const optimizer = options.optimizer ?? recipe.optimizer;
    const stats = ratingStats(train);
    const yRange = options.yRange ?? [0, stats.max + 0.5];
    const config: Record<string, unknown> = { nFactors: options.nFactors ?? recipe.nFactors };
    Object.assign(config, entry.fromData({ ...stats, yRange, biasDecay: options.biasDecay ?? recipe.biasDecay }));
    Object.assign(config, options.modelConfig ?? {});
    // the embedding and bias tables' training state, before they exist
    const stateBytes = trainingBytes(train.userIds.size + train.itemIds.size, Number(config.nFactors ?? recipe.nFactors) + (entry.biases ? 1 : 0));
    this.threads = requireInt('threads', options.threads ?? defaultThreads(kind, options.modelConfig ?? {}, availableParallelism(), stateBytes), 1, 64);
    if (this.threads > 1 && config.shared === undefined) config.shared = true;
    this.model = createModel(kind, train.userIds.size, train.itemIds.size, config, this.seed);
    this.batchData = train;
    this.perRating = perRatingReg(kind, optimizer);
    // per-rating SGD decays a row only when it is rated: its reg needs no scaling with the set's size
    this.wd = options.wd === 'auto' ? (this.perRating ? recipe.wd : wdForSize(recipe.wd, n)) : requireNumber('wd', options.wd ?? recipe.wd, 0);
    // per-rating SGD goes through its block grid, not a shuffled order
    const orderBytes = this.perRating ? 0 : n * 4;
    this.order = new Int32Array(this.threads > 1 ? new SharedArrayBuffer(orderBytes) : new ArrayBuffer(orderBytes));
    const model = this.model;
    this.bins = this.perRating ? 1 : blockBins(options.blocks ?? 1, model.params, train.userIds.size, train.itemIds.size);
    this.rng = new RandomState(this.seed);
    if (this.bins > 1) this.blockedBatches();
    else if (!this.perRating) this.batchData = columnCopy(train, this.threads > 1);
    const tables = model.params;
    if (this.bins > 1 && this.threads > 1 && optimizer === 'adam' && (options.kernels ?? 'wasm') === 'wasm'
      && (model instanceof EmbeddingDot || model instanceof EmbeddingDotBias) && blockParallelFits(tables)) {
      // the blocks of a round share no row: this thread and a worker each train whole blocks
      const adam = new AdamW(tables, { wd: this.wd });
      this.optimizer = adam;
      const most = this.blockedBatches();
      const sse = new Float64Array(new SharedArrayBuffer(most * 8));
      const hyper = new Float64Array(new SharedArrayBuffer(most * 16));
      const columns = this.batchData;
      const link = model instanceof EmbeddingDotBias ? model.link : undefined;
      this.blockParallel = new BlockParallel(model.nFactors, link, tables, { wd: this.wd, lastSteps: adam.lastSteps }, columns, this.order, this.batchEnds!, sse, hyper);
      this.sideReady = this.blockParallel.ready();
    } else if (this.threads > 1 && model instanceof HybridModel && model.pick && pickCanRunElsewhere(model)) {
      // the worker reads the batch columns as this thread rewrites them each epoch
      const pick = new PickParallel(model, this.batchData.users, this.batchData.items, this.order, { kind: optimizer, options: { wd: this.wd, kernels: options.kernels ?? 'wasm' } }, this.seed);
      model.pickTrainedElsewhere = true;
      const pickParams = new Set<Param>(model.pick.params);
      this.pickParallel = pick;
      this.optimizer = withPickFlush(makeOptimizer(optimizer, model.params.filter((p) => !pickParams.has(p)), { wd: this.wd, kernels: options.kernels ?? 'wasm' }), pick);
      this.sideReady = pick.ready();
    } else if (this.threads > 1 && !this.perRating && splitsBySide(this.model.params)) {
      // dot and dotbias also split each batch's forward and backward between the threads
      const side = new SplitParallelOptimizer(this.model.params, optimizer, { wd: this.wd, kernels: options.kernels ?? 'wasm' }, model instanceof FactorModel ? model : undefined);
      this.optimizer = side;
      if (side.splitsBatches) this.splitBatches = side;
      this.sideReady = side.ready();
    } else {
      this.optimizer = makeOptimizer(optimizer, this.model.params, { wd: this.wd, kernels: options.kernels ?? 'wasm' });
    }
    this.unseenFallback = options.unseenFallback ?? false;
    this.globalMean = stats.mean;
    const nU = train.userIds.size;
    const nI = train.itemIds.size;
    this.userCount = new Int32Array(nU);
    this.itemCount = new Int32Array(nI);
    this.userMean = new Float32Array(nU);
    this.itemMean = new Float32Array(nI);
    const uSum = new Float64Array(nU);
    const iSum = new Float64Array(nI);
    for (let r = 0; r < n; r++) {
      const u = train.users[r]!;
      const i = train.items[r]!;
      this.userCount[u]!++;
      this.itemCount[i]!++;
      uSum[u] += train.ratings[r]!;
      iSum[i] += train.ratings[r]!;
    }
    // damped mean (sum + 5 mu) / (n + 5): a user with 2 ratings stays near the global mean
    for (let u = 0; u < nU; u++) this.userMean[u] = (uSum[u]! + 5 * stats.mean) / (this.userCount[u]! + 5);
    for (let i = 0; i < nI; i++) this.itemMean[i] = (iSum[i]! + 5 * stats.mean) / (this.itemCount[i]! + 5);
    this.onEpoch = options.onEpoch;
    this.onBatch = options.onBatch;
  }

  /** Trains `epochs` epochs at a constant lr and momentum (fastai's `fit`). */
  async fit(epochs: number, lr: number): Promise<EpochStats[]> {
    return this.fitSchedule(epochs, constant(requireNumber('lr', lr, 0)), constant(this.momentum));
  }

  /** Trains `epochs` epochs with fastai's one-cycle lr and momentum schedules peaking at `lrMax`. */
  async fitOneCycle(epochs: number, lrMax: number, options: OneCycleOptions = {}): Promise<EpochStats[]> {
    const s = oneCycle(requireNumber('lrMax', lrMax, 0), options);
    return this.fitSchedule(epochs, s.lr, s.mom);
  }

  /** Trains `epochs` epochs with lr and momentum given as pure functions of progress pos ∈ [0, 1]. */
  async fitSchedule(requested: number, lr: Schedule, mom: Schedule): Promise<EpochStats[]> {
    const epochs = cappedEpochs(requireInt('epochs', requested, 1));
    const n = this.train.ratings.length;
    const bs = this.batchSize;
    // blocked epochs vary a little in batches: their schedule advances by ratings trained, not by steps
    const nb = batchesOf(n, bs);
    const total = nb * epochs;
    const rows: EpochStats[] = [];
    if (this.sideReady) await this.sideReady;
    let perRatingSgd: BlockedSgd | undefined;
    if (this.perRating) {
      // building the grid and copying the tables in is training time too
      const t0 = performance.now();
      perRatingSgd = new BlockedSgd(this.model as BiasedMF, this.train, this.threads, this.rng);
      await perRatingSgd.ready();
      perRatingSgd.load();
      this.trainSeconds += (performance.now() - t0) / 1000;
    }
    try {
      for (let e = 0; e < epochs; e++) {
        const t0 = performance.now();
        // mf's FPSGD trainer keeps its own block order; the minibatch paths shuffle (or block) the rows here
        const ends = !perRatingSgd && this.bins > 1 ? this.blockedOrder() : undefined;
        if (!perRatingSgd && !ends) this.shuffle();
        if (!perRatingSgd && !ends && this.batchData !== this.train) this.gather();
        let sse = 0;
        if (perRatingSgd) {
          sse = perRatingSgd.epoch(this.rng, lr, e / epochs, (e + 1) / epochs, this.wd);
          perRatingSgd.store();
          if (this.onBatch) this.onBatch((e + 1) * nb, total);
        } else if (this.blockParallel) {
          sse = this.blockParallelEpoch(this.blockParallel, e, epochs, lr, mom);
        } else {
          const batches = ends ? this.blockedNb : nb;
          for (let b = 0; b < batches; b++) {
            const step = e * nb + b;
            const start = ends ? ends[b]! : b * bs;
            const end = ends ? ends[b + 1]! : b === nb - 1 ? n : Math.min(n, start + bs);
            const pos = ends ? (e * n + start) / (n * epochs) : step / total;
            const batchSse = this.trainBatch(start, end, lr(pos), mom(pos));
            if (!Number.isFinite(batchSse)) throw diverged(batchSse, `epoch ${this.history.length}, batch ${b + 1} of ${batches}`, lr(pos));
            sse += batchSse;
            this.batchLosses.push(batchSse / (end - start));
            if (this.onBatch) this.onBatch(Math.min(step + 1, total), total);
          }
        }
        this.optimizer.flush();
        this.trainSeconds += (performance.now() - t0) / 1000;
        // per-rating SGD reports a whole epoch at once; a model whose weights overflowed predicts NaN on validation.
        if (!Number.isFinite(sse)) throw diverged(sse, `epoch ${this.history.length}`, lr((e + 1) / epochs));
        const validMse = this.validMse();
        if (this.valid && this.valid.ratings.length > 0 && !Number.isFinite(validMse)) throw diverged(validMse, `epoch ${this.history.length} (validation)`, lr((e + 1) / epochs));
        const row: EpochStats = {
          epoch: this.history.length,
          trainLoss: sse / n,
          validMse,
          validRmse: Math.sqrt(validMse),
          elapsed: this.trainSeconds,
        };
        this.history.push(row);
        rows.push(row);
        if (this.onEpoch) this.onEpoch(row);
      }
    } finally {
      await perRatingSgd?.close();
    }
    return rows;
  }

  /** The most batches a blocked epoch can have; builds the grid on first use. */
  private blockedBatches(): number {
    if (!this.grid) {
      const t = this.train;
      const grid = blockGrid(t.users, t.items, t.userIds.size, t.itemIds.size, this.bins, this.rng);
      this.grid = grid;
      // the columns copied block by block (shared: a block-parallel worker reads them); the grid then numbers the copy
      const n = t.ratings.length;
      const data = columnCopy(t, this.threads > 1);
      gatherColumns(t, grid.rows, data);
      for (let j = 0; j < n; j++) grid.rows[j] = j;
      this.batchData = data;
      // each half round ends in at most one short batch
      const most = Math.ceil(n / this.batchSize) + 2 * this.bins;
      // shared: a block-parallel worker reads the batch boundaries
      this.batchEnds = new Int32Array(this.threads > 1 ? new SharedArrayBuffer((most + 1) * 4) : new ArrayBuffer((most + 1) * 4));
      this.roundCuts = new Int32Array(2 * this.bins + 1);
    }
    return this.batchEnds!.length - 1;
  }

  /**
   * This epoch's blocked order into `order`: the rounds of a fresh Latin square, each round's blocks one after
   * another, each block's rows freshly shuffled. Each half of a round (its first blocks, then the rest; a
   * block-parallel worker trains the second) is cut into batches of its own: a batch may span blocks of one
   * half, which share no row with the other half's, and cutting every block apart would make one short batch
   * per block (on 1.6M ratings in 87 bins, a quarter of all batches, and a worse fit). Returns the batch
   * boundaries; `blockedNb` is their count.
   */
  private blockedOrder(): Int32Array {
    const grid = this.grid!;
    const ends = this.batchEnds!;
    shuffleWithinBlocks(grid, this.rng);
    const rounds = blockRounds(grid.bins, this.rng);
    const order = this.order;
    const bs = this.batchSize;
    const cuts = this.roundCuts!;
    // a round's first half of blocks is this thread's, the second half a block-parallel worker's
    const half = Math.ceil(grid.bins / 2);
    let at = 0;
    let b = 0;
    for (let r = 0; r < rounds.length; r++) {
      const round = rounds[r]!;
      for (let h = 0; h < 2; h++) {
        cuts[2 * r + h] = b;
        const segment = at;
        for (let j = h === 0 ? 0 : half; j < (h === 0 ? half : round.length); j++) {
          const from = grid.blockStart[round[j]!]!;
          const size = grid.blockStart[round[j]! + 1]! - from;
          order.set(grid.rows.subarray(from, from + size), at);
          at += size;
        }
        const count = batchesOf(at - segment, bs);
        for (let c = 0; c < count; c++) ends[b++] = segment + c * bs;
      }
    }
    cuts[2 * rounds.length] = b;
    ends[b] = at;
    this.blockedNb = b;
    return ends;
  }

  /**
   * One blocked epoch on two threads, round by round: the worker trains the round's second half of blocks while
   * this thread trains the first, both numbering steps as one thread would (first half, then second half).
   * Returns the epoch's sum of squared errors, added in batch order.
   */
  private blockParallelEpoch(bp: BlockParallel, epoch: number, epochs: number, lr: Schedule, mom: Schedule): number {
    const adam = this.optimizer as AdamW;
    const cuts = this.roundCuts!;
    const ends = this.batchEnds!;
    const nb = this.blockedNb;
    const n = this.train.ratings.length;
    const total = batchesOf(n, this.batchSize) * epochs;
    let sse = 0;
    for (let r = 0; r < this.bins; r++) {
      const first = cuts[2 * r]!;
      const mine = cuts[2 * r + 1]!;
      const last = cuts[2 * r + 2]!;
      const base = adam.steps;
      for (let b = first; b < last; b++) {
        const pos = (epoch * n + ends[b]!) / (n * epochs);
        bp.hyper[2 * (b - first)] = lr(pos);
        bp.hyper[2 * (b - first) + 1] = mom(pos);
      }
      bp.begin(first, mine, last);
      for (let b = first; b < last; b++) adam.record(bp.hyper[2 * (b - first)]!, bp.hyper[2 * (b - first) + 1]!);
      try {
        for (let b = first; b < mine; b++) {
          bp.sse[b] = this.model.trainBatch(this.batchData, this.order, ends[b]!, ends[b + 1]!);
          adam.stepAt(base + 1 + b - first);
        }
      } finally {
        bp.end();
      }
      for (let b = first; b < last; b++) {
        const batchSse = bp.sse[b]!;
        if (!Number.isFinite(batchSse)) throw diverged(batchSse, `epoch ${this.history.length}, batch ${b + 1} of ${nb}`, bp.hyper[2 * (b - first)]!);
        sse += batchSse;
        this.batchLosses.push(batchSse / (ends[b + 1]! - ends[b]!));
      }
      if (this.onBatch) this.onBatch(Math.min(Math.round(((epoch * n + ends[last]!) / (n * epochs)) * total), total), total);
    }
    return sse;
  }

  /** Rewrites the batch columns in this epoch's order, then makes `order` the identity over them (the same batches as reading through the permutation). */
  private gather(): void {
    const order = this.order;
    gatherColumns(this.train, order, this.batchData);
    for (let j = 0; j < order.length; j++) order[j] = j;
  }

  /** A fresh numpy-style permutation of the training rows for this epoch. */
  private shuffle(): void {
    const order = this.order;
    for (let j = 0; j < order.length; j++) order[j] = j;
    this.rng.shuffle(order);
  }

  /** One optimization step on `order[start..end)`; returns the batch's sum of squared errors. */
  private trainBatch(start: number, end: number, lr: number, mom: number): number {
    // the pick head's worker (if any) steps the same rows meanwhile
    this.pickParallel?.begin(start, end, lr, mom);
    const split = this.splitBatches;
    const sse = split ? split.pairBatch(this.batchData, this.order, start, end) : this.model.trainBatch(this.batchData, this.order, start, end);
    this.optimizer.step(lr, mom);
    this.pickParallel?.end();
    return sse;
  }

  /** MSE of the current model on the validation ratings (NaN without validation data). */
  validMse(): number {
    const v = this.valid;
    if (!v || v.ratings.length === 0) return NaN;
    this.optimizer.flush();
    let se = 0;
    const { users, items, ratings } = v;
    for (let r = 0; r < ratings.length; r++) {
      const err = this.predictIndex(users[r]!, items[r]!) - ratings[r]!;
      se += err * err;
    }
    return se / ratings.length;
  }

  /** Whether both dense indices had training ratings (else the prediction is the fallback mean). */
  seen(user: number, item: number): boolean {
    return this.userCount[user]! > 0 && this.itemCount[item]! > 0;
  }

  /** Prediction for dense (user, item), with the damped-mean fallback for a side that had no training ratings. */
  predictIndex(user: number, item: number): number {
    if (this.unseenFallback) {
      const uSeen = this.userCount[user]! > 0;
      const iSeen = this.itemCount[item]! > 0;
      if (!uSeen || !iSeen) return uSeen ? this.userMean[user]! : iSeen ? this.itemMean[item]! : this.globalMean;
    }
    return this.model.predict(user, item);
  }

  /**
   * fastai's lr finder: trains on an exponential lr ramp from a copy of the current weights, records the
   * smoothed loss, stops on divergence, then restores the weights. The suggestion is fastai's "valley".
   */
  lrFind(options: LearnerLrFindOptions = {}): LrFindResult {
    this.optimizer.flush();
    const saved = this.model.params.map((p) => p.value.slice());
    const kind = this.optimizer.kind;
    // A hybrid's pick head is no part of the lr range test (on one thread or two): its tables, optimizer
    // state and random draws stay as they are, so training after it is the same either way.
    const model = this.model;
    const hybrid = model instanceof HybridModel && model.pick ? model : undefined;
    const skip = new Set<Param>(hybrid ? hybrid.pick!.params : []);
    // Held shared tables keep their init (their gradients pile up unused and are cleared below).
    if (options.holdSharedTables && model instanceof HybridModel) for (const p of model.sharedParams) skip.add(p);
    const elsewhere = hybrid?.pickTrainedElsewhere ?? false;
    if (hybrid) hybrid.pickTrainedElsewhere = true;
    const opt = makeOptimizer(kind, this.model.params.filter((p) => !skip.has(p)), { wd: this.wd });
    const rng = new RandomState(this.seed + 1);
    const n = this.train.ratings.length;
    const bs = this.batchSize;
    const order = new Int32Array(n);
    let cursor = n;
    const mf = this.perRating ? (this.model as BiasedMF) : undefined;
    try {
      return runLrFind((lr) => {
        if (cursor + bs > n) {
          for (let j = 0; j < n; j++) order[j] = j;
          rng.shuffle(order);
          cursor = 0;
        }
        const start = cursor;
        const end = Math.min(n, start + bs);
        cursor = end;
        let sse: number;
        if (mf) sse = mf.sgd(this.train, order, start, end, lr, this.wd);
        else {
          sse = this.model.trainBatch(this.train, order, start, end);
          opt.step(lr, this.momentum);
        }
        return sse / (end - start);
      }, options);
    } finally {
      if (hybrid) hybrid.pickTrainedElsewhere = elsewhere;
      this.model.params.forEach((p, j) => {
        p.value.set(saved[j]!);
        p.grad.reset(true);
      });
    }
  }

  /** Predicted rating of a raw (userId, itemId); throws UNKNOWN_USER / UNKNOWN_ITEM for ids never seen. */
  predict(userId: RawId, itemId: RawId): number {
    this.optimizer.flush();
    const u = this.train.userIds.lookup(userId, 'error', 'user');
    const i = this.train.itemIds.lookup(itemId, 'error', 'item');
    return this.predictIndex(u, i);
  }

  /** Stops the optimizer's worker thread, if any (it does not keep the process alive either way). */
  async close(): Promise<void> {
    if (this.optimizer instanceof SplitParallelOptimizer) await this.optimizer.close();
    await this.blockParallel?.close();
    await this.pickParallel?.close();
  }

  /** Trains with the model kind's default recipe (epochs, peak lr, schedule of TRAIN_DEFAULTS). */
  async fitDefault(): Promise<EpochStats[]> {
    const recipe = TRAIN_DEFAULTS[this.model.kind];
    return recipe.schedule === 'one-cycle' ? this.fitOneCycle(recipe.epochs, recipe.lr) : this.fit(recipe.epochs, recipe.lr);
  }

  /**
   * Saves the model with its id maps, training ratings and (optionally) movie metadata, as a JSON manifest
   * plus a weights file, both written atomically; `loadTrainedModel` / `loadRecommender` read it back.
   */
  save(path: string, items: Map<RawId, ItemMeta> = new Map()): ModelManifest {
    return saveTrainedModel(path, this.trained(items));
  }

  /**
   * Recommendations, similar movies and fold-in over the model as trained so far, without a save and load:
   * what `loadRecommender` would give for the file `save` writes. Every movie a user rated in the training
   * or validation ratings is left out of their recommendations (`includeRated: true` keeps them). It
   * reads the model's tables as they are now; train more, then ask for a new one.
   */
  recommender(options: LearnerRecommenderOptions = {}): ModelRecommender {
    const { items, ...rest } = options;
    return new ModelRecommender(this.trained(items ?? new Map()), rest);
  }

  /** The model with everything a model file holds: `save` writes it, `recommender` serves it. */
  private trained(items: Map<RawId, ItemMeta>): TrainedModel {
    this.optimizer.flush();
    // the validation ratings are what the user has seen beyond training: recommendations leave them out too
    const seen = this.valid && this.valid.ratings.length > 0 ? { seen: { users: this.valid.users, items: this.valid.items } } : {};
    return { model: this.model, train: this.train, ...seen, items, history: { epochs: this.history, batchLosses: this.batchLosses } };
  }

  /** Everything a model file needs: kind, architecture config, training history and the weight tables. */
  exportState(): { kind: ModelKind; config: Record<string, unknown>; history: EpochStats[]; tables: ParamTable[] } {
    this.optimizer.flush();
    return { kind: this.model.kind, config: this.model.config(), history: this.history.slice(), tables: paramTables(this.model) };
  }
}

/** Batches of `bs` over n ratings; a last batch of one rating would make batch norm (nn) degenerate: it joins the batch before it. */
function batchesOf(n: number, bs: number): number {
  return n % bs === 1 && n > bs ? Math.floor(n / bs) : Math.ceil(n / bs);
}

/** Fresh user, item and rating columns the size of `t`'s (with its id maps), on shared memory when worker threads read them. */
function columnCopy(t: Ratings, shared: boolean): Ratings {
  const n = t.ratings.length;
  const bytes = () => (shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  return { users: new Int32Array(bytes()), items: new Int32Array(bytes()), ratings: new Float32Array(bytes()), userIds: t.userIds, itemIds: t.itemIds };
}

/** Builds a learner over training (and optional validation) ratings that share their id maps. */
export function collabLearner(train: Ratings, valid?: Ratings, options: CollabLearnerOptions = {}): CollabLearner {
  return new CollabLearner(train, valid, options);
}

/** The error that stops a run whose loss overflowed: going on would only save a model of NaNs. */
function diverged(loss: number, where: string, lr: number): CollabError {
  return new CollabError(
    'INVALID_OPTION',
    `training diverged: the loss became ${loss} at ${where} (lr ${lr.toPrecision(3)}); stopped without saving — train again with a lower --lr (collab lr-find suggests one)`,
    { field: 'lr' },
  );
}
