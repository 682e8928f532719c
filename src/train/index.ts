/** Training: learner, optimizers, schedules, lr finder. */
export { collabLearner, CollabLearner, ratingStats, type CollabLearnerOptions, type EpochStats, type LearnerLrFindOptions } from './learner.js';
export { TRAIN_DEFAULTS, WD_TUNED_RATINGS, wdForSize, type TrainRecipe } from './defaults.js';
export { AdamW, SGD, makeOptimizer, type Optimizer, type OptimizerKind, type OptimizerOptions } from './optimizers.js';
export { oneCycle, combinedCos, schedCos, schedLin, schedExp, constant, type Schedule, type OneCycleOptions } from './schedules.js';
export { runLrFind, valley, oneCycleCandidates, oneCycleRampLength, type LrCandidate, type LrFindOptions, type LrFindResult } from './lr-find.js';
export { suggestLr, type LrSuggestion, type LrTrial, type TrialSchedule } from './suggest-lr.js';
