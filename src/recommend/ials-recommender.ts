import type { TrainedIals } from '../io/ials-model.js';
import type { IalsModel } from '../models/ials.js';
import { ImplicitRecommender, type HistoryModel, type ImplicitRecommenderOptions } from './implicit-recommender.js';

/**
 * iALS as a {@link HistoryModel}: a known user is scored by their trained factors, a history (a visitor,
 * or a user with new ratings) by one least-squares fold-in; a history movie's part in a score is its term
 * c·y_iᵀ W y_j of the fold-in; neighbours are the cosine of item factors; the map is a PCA of them.
 */
export function ialsHistoryModel(model: IalsModel): HistoryModel {
  return {
    nUsers: model.nUsers,
    nItems: model.nItems,
    itemsOf: (u) => model.itemsOf(u),
    scoreUser: (u, out) => model.scoreUser(u, out),
    scoreItems: (items, out) => model.scoreItems(items, out),
    similarScores: (i, out) => model.similarScores(i, out),
    contributions: (i, items) => model.contributions(i, items),
    embedding: { Q: model.itemFactors, k: model.nFactors },
  };
}

/** "What to watch next" from a saved iALS model (scores are iALS scores, `info.scoreKind` 'ials'). */
export function ialsRecommender(trained: TrainedIals, options: ImplicitRecommenderOptions = {}): ImplicitRecommender {
  const { model } = trained;
  return new ImplicitRecommender({ model: ialsHistoryModel(model), train: trained.train, items: trained.items }, { kind: 'ials', label: 'iALS', config: { ...model.config, nItems: model.nItems } }, options);
}
