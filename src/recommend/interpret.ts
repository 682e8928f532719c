import { requireInt } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import { pca } from '../maths/pca.js';
import type { TrainedModel } from '../io/trained-model.js';

/** A movie with its learned bias and its mean training rating, for the bias tables. */
export interface BiasEntry {
  itemId: RawId;
  title: string;
  bias: number;
  meanRating: number;
  ratingCount: number;
}

/** One principal component of the movie embeddings, with the movies at each end. */
export interface ComponentEntry {
  component: number;
  /** Share of the variance of the analysed embeddings this component explains. */
  explainedRatio: number;
  lowest: { itemId: RawId; title: string; value: number }[];
  highest: { itemId: RawId; title: string; value: number }[];
}

/** Options of {@link interpretModel}. */
export interface InterpretOptions {
  /** Movies listed at each end. Default 10. */
  n?: number;
  /** Only the most-rated movies are analysed, as in the fastai lesson. Default 1000. */
  topMovies?: number;
  /** Principal components reported. Default 3. */
  components?: number;
}

/** What the biases and embeddings of a model say (the fastai lesson's "interpretation"). */
export interface Interpretation {
  /** Lowest and highest learned movie bias, or undefined for models without biases. */
  biases?: { lowest: BiasEntry[]; highest: BiasEntry[] };
  components: ComponentEntry[];
  /** Coordinates of the analysed movies on the first two components, most-rated first. */
  points: { itemId: RawId; title: string; x: number; y: number; ratingCount: number }[];
}

/**
 * Interprets a factor model: movies with the lowest and highest bias among the `topMovies` most rated
 * (with their mean rating beside, so one sees the bias is not just the mean), and the PCA of their
 * embeddings with the movies at each extreme of every component.
 */
export function interpretModel(trained: TrainedModel, options: InterpretOptions = {}): Interpretation {
  const n = requireInt('n', options.n ?? 10, 1);
  const top = requireInt('topMovies', options.topMovies ?? 1000, 2);
  const nComp = requireInt('components', options.components ?? 3, 1, 10);
  const { model, train } = trained;
  const nI = model.nItems;
  const counts = new Int32Array(nI);
  const sums = new Float64Array(nI);
  for (let r = 0; r < train.ratings.length; r++) {
    counts[train.items[r]!]!++;
    sums[train.items[r]!]! += train.ratings[r]!;
  }
  const byCount = Array.from(counts.keys()).sort((a, b) => counts[b]! - counts[a]! || a - b).slice(0, Math.min(top, nI));
  const ids = train.itemIds;
  const title = (i: number): string => trained.items.get(ids.idOf(i))?.title ?? `movie ${ids.idOf(i)}`;
  const result: Interpretation = { components: [], points: [] };

  // The tables scoring uses: a hybrid's movie is its id embedding plus its features' embeddings, so the composed ones.
  const scoring = model.factorScoring?.();
  const bias = scoring?.bi;
  if (bias) {
    const entries = byCount.map((i) => ({ itemId: ids.idOf(i), title: title(i), bias: bias[i]!, meanRating: sums[i]! / counts[i]!, ratingCount: counts[i]! }));
    entries.sort((a, b) => a.bias - b.bias);
    result.biases = { lowest: entries.slice(0, n), highest: entries.slice(-n).reverse() };
  }

  const Q = scoring ? { Q: scoring.Q, k: scoring.k } : model.itemEmbeddings?.();
  if (Q && byCount.length > nComp) {
    const rows = Int32Array.from(byCount);
    const fit = pca(Q.Q, nI, Q.k, nComp, { rows });
    for (let c = 0; c < nComp; c++) {
      const order = Array.from(rows.keys()).sort((a, b) => fit.coordinates[a * nComp + c]! - fit.coordinates[b * nComp + c]!);
      const entry = (t: number) => ({ itemId: ids.idOf(rows[t]!), title: title(rows[t]!), value: fit.coordinates[t * nComp + c]! });
      result.components.push({
        component: c + 1,
        explainedRatio: fit.explainedRatio[c]!,
        lowest: order.slice(0, n).map(entry),
        highest: order.slice(-n).reverse().map(entry),
      });
    }
    result.points = Array.from(rows, (i, t) => ({
      itemId: ids.idOf(i),
      title: title(i),
      x: fit.coordinates[t * nComp]!,
      y: fit.coordinates[t * nComp + 1]!,
      ratingCount: counts[i]!,
    }));
  }
  return result;
}
