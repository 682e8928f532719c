import { CollabError } from '../core/errors.js';
import type { Ratings } from '../data/ratings.js';
import { collabLearner, type CollabLearnerOptions } from './learner.js';
import { oneCycleCandidates, type LrCandidate, type LrFindResult } from './lr-find.js';
import { MODEL_REGISTRY } from '../models/registry.js';

/** One candidate lr trained as `collab train` would train it. */
export interface LrTrial extends LrCandidate {
  /** Validation MSE after the full schedule (Infinity when the training diverged). */
  validMse: number;
}

/** The lr suggested for training, with how it was chosen. */
export interface LrSuggestion {
  lr: number;
  /** The candidate's rule: 'minimum/10', 'middle' or 'valley'. */
  rule: string;
  /** Every candidate with its validation MSE; empty when there was no validation data to try them on. */
  trials: LrTrial[];
}

/** How `collab train` would run: its epochs and schedule. */
export interface TrialSchedule {
  epochs: number;
  schedule: 'one-cycle' | 'constant';
}

/**
 * Suggests the lr for training from an epoch-long ramp (see oneCycleRampLength): each of the ramp's three
 * readings (minimum/10, valley and the geometric middle of the two) trains the whole schedule from the same
 * init on the training split, and the one with the lowest validation MSE wins. No single reading held
 * across models and data: minimum/10 suits dotbias (ml-100k valid MSE 0.805, ml-latest-small 0.715,
 * against the default 4e-3's 0.801 and 0.711) but leaves the hybrid short on ml-100k (2.2e-3: 0.80
 * against 0.782), while the middle suits both on ml-100k but overshoots dotbias on ml-latest-small
 * (7.5e-3: 0.727); the ramps of the two models have the same shape, so no rule read off one curve tells
 * them apart. A hybrid's trials leave its pick head out: it has its own tables, so the rating head, and
 * the validation MSE, come out the same, about 3 times faster. Without validation ratings minimum/10 is
 * suggested untried.
 */
export async function suggestLr(train: Ratings, valid: Ratings | undefined, options: CollabLearnerOptions, run: TrialSchedule, ramp: LrFindResult): Promise<LrSuggestion> {
  const candidates = oneCycleCandidates(ramp);
  if (valid === undefined || valid.ratings.length === 0) return { ...candidates[0]!, trials: [] };
  const trialOptions: CollabLearnerOptions = options.model !== undefined && MODEL_REGISTRY[options.model].sideFeatures === true ? { ...options, modelConfig: { ...options.modelConfig, pickFactors: 0 } } : options;
  const trials: LrTrial[] = [];
  for (const c of candidates) {
    const learner = collabLearner(train, valid, trialOptions);
    try {
      const history = run.schedule === 'one-cycle' ? await learner.fitOneCycle(run.epochs, c.lr) : await learner.fit(run.epochs, c.lr);
      trials.push({ ...c, validMse: history[history.length - 1]!.validMse });
    } catch (err) {
      // a candidate that blows up is a candidate not to suggest
      if (!(err instanceof CollabError && err.message.startsWith('training diverged:'))) throw err;
      trials.push({ ...c, validMse: Infinity });
    } finally {
      await learner.close();
    }
  }
  const best = trials.reduce((a, b) => (b.validMse < a.validMse ? b : a));
  return { lr: best.lr, rule: best.rule, trials };
}
