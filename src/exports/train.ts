/** collab/train: the learner, its defaults, optimizers, schedules and the lr finder. */
export * from '../train/index.js';
export type { LearnerRecommenderOptions } from '../train/learner.js';
