import type { TrainedEase } from '../io/ease-model.js';
import type { EaseModel } from '../models/ease.js';
import { ImplicitRecommender, type HistoryModel, type ImplicitRecommenderOptions } from './implicit-recommender.js';

/** Options of {@link EaseRecommender}. */
export type EaseRecommenderOptions = ImplicitRecommenderOptions;

/**
 * EASE as a {@link HistoryModel}: a history's score of movie i is s_i = Σ_{j ∈ history} B_ji, so each
 * history movie's part is B_ji; a movie's neighbours are row i of B (the EASE score of j for a history
 * of just i).
 */
export function easeHistoryModel(model: EaseModel): HistoryModel {
  const m = model.nItems;
  return {
    nUsers: model.nUsers,
    nItems: m,
    itemsOf: (u) => model.itemsOf(u),
    scoreUser: (u, out) => model.scoreUser(u, out),
    scoreItems: (items, out) => model.scoreItems(items, out),
    similarScores: (i, out) => {
      out.set(model.B.subarray(i * m, (i + 1) * m));
      return out;
    },
    contributions: (i, items) => Float64Array.from(items, (j) => model.B[j * m + i]!),
  };
}

/**
 * "What to watch next" from a saved EASE model: a user's score of movie j is s_j = Σ_{i ∈ history} B_ij
 * over the movies they rated, whatever the rating (EASE learns from who rated what). Scores are EASE
 * scores, not predicted ratings (`info.scoreKind` is 'ease'). A new visitor needs no fold-in: their
 * given movies are the history. The movie map needs embeddings EASE does not have.
 */
export class EaseRecommender extends ImplicitRecommender {
  constructor(trained: TrainedEase, options: EaseRecommenderOptions = {}) {
    const { model } = trained;
    super({ model: easeHistoryModel(model), train: trained.train, items: trained.items }, { kind: 'ease', label: 'EASE', config: { lambda: model.lambda, nItems: model.nItems } }, options);
  }
}
