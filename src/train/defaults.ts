import type { ModelKind } from '../models/model.js';
import type { OptimizerKind } from './optimizers.js';

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
 * Defaults per model kind. dotbias: fastai's collab_learner recipe (50 factors, AdamW one-cycle, lr 5e-3,
 * bs 64, 5 epochs) with weight decay 0.2 on the embeddings and none on the biases, which measured better than
 * fastai's wd 0.1 on every bias-and-factor table on both MovieLens splits (ml-100k 0.802 vs 0.808,
 * ml-latest-small 0.712 vs 0.725 valid MSE). dot: the blog's first model (SGD lr 0.1, momentum 0.9,
 * wd 1e-5, 3 epochs). mf: per-rating Funk SGD.
 */
export const TRAIN_DEFAULTS: Record<ModelKind, TrainRecipe> = {
  dotbias: { nFactors: 50, epochs: 5, lr: 5e-3, wd: 0.2, batchSize: 64, optimizer: 'adam', schedule: 'one-cycle', momentum: 0.9, biasDecay: false },
  dot: { nFactors: 50, epochs: 3, lr: 0.1, wd: 1e-5, batchSize: 64, optimizer: 'sgd', schedule: 'constant', momentum: 0.9, biasDecay: true },
  mf: { nFactors: 50, epochs: 8, lr: 0.05, wd: 0.05, batchSize: 64, optimizer: 'sgd', schedule: 'one-cycle', momentum: 0.9, biasDecay: true },
  nn: { nFactors: 50, epochs: 5, lr: 5e-3, wd: 0.1, batchSize: 64, optimizer: 'adam', schedule: 'one-cycle', momentum: 0.9, biasDecay: true },
};
