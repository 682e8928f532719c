import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import type { RawId } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { fitBiasBaseline, type BiasBaseline } from './baselines.js';
import { userItemsCsr } from '../data/user-items.js';
import { itemFeatureNames, ITEM_FEATURE_KINDS, type ItemFeatureKind } from './hybrid-features.js';
import { topKForUser, type TopKResult } from '../maths/top-k.js';

/**
 * Content-based recommendation from movie metadata.
 *
 * Movie vectors: every movie is a bag of features (genres, a release-year bucket, ml-latest tags, title
 * words — the same names as the hybrid's item features); with df_f the number of movies that have
 * feature f and N the number of movies,
 *   v_if = idf_f = ln(N / df_f)   for each feature f of movie i (binary term frequency),
 * and every v_i is L2-normalised, so cos(i, j) = v_i·v_j.
 *
 * Ranking (a user profile): with the user's mean rating r̄_u,
 *   profile_u = Σ_{j ∈ R(u)} (r_uj - r̄_u) v_j,   score(u, i) = profile_u·v_i / |profile_u|   (cosine)
 * so liked movies pull towards their features and disliked ones push away.
 *
 * Rating prediction (so it can be scored by RMSE): a bias baseline b_ui = mu + b_u + b̂_i plus the
 * content-neighbour-weighted deviation of the user's ratings,
 *   pred(u, i) = b_ui + Σ_{j ∈ N_M(i; u)} s_ij (r_uj - b_uj) / (Σ_{j ∈ N_M} s_ij + shrink)
 * over the M rated movies most similar to i (s_ij = cos(i, j) > 0). A movie nobody rated in training
 * gets its item bias from its content neighbours among rated movies,
 *   b̂_i = Σ_{j ∈ N_M(i)} s_ij b_j / (Σ s_ij + biasShrink),
 * which is what makes new movies predictable from metadata alone.
 */

/** Options of {@link ContentModel.fit}. */
export interface ContentOptions {
  /** Metadata used as features. Default ['genres', 'year', 'tags', 'title']. */
  features?: readonly ItemFeatureKind[];
  /** Features held by fewer movies than this are dropped. Default 2. */
  minCount?: number;
  /** Content neighbours M used by rating prediction. Default 40. */
  neighbours?: number;
  /** Shrinkage added to the similarity sum of the deviation term. Default 1. */
  shrink?: number;
  /** Shrinkage of the content-predicted bias of a movie nobody rated. Default 1. */
  biasShrink?: number;
  /** Shrinkage of a user's bias b_u = Σ (r - mu - b_i) / (regUser + n). Default 15 (Surprise's baseline). */
  regUser?: number;
}

/** A fitted content model over the dense items of a training table. */
export class ContentModel {
  readonly nItems: number;
  /** Feature vocabulary. */
  readonly featureNames: readonly string[];
  /** Movie vectors in CSR: item i's features are indices[offsets[i]..offsets[i+1]) with values (idf, L2-normalised). */
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  /** Inverted index: feature f's movies are postItems[postOffsets[f]..postOffsets[f+1]) with the same values. */
  private readonly postOffsets: Int32Array;
  private readonly postItems: Int32Array;
  private readonly postValues: Float32Array;
  /** mu, b_u, b_i of the training ratings; bHat[i] is b_i for rated movies and the content-predicted bias otherwise. */
  readonly baseline: BiasBaseline;
  readonly itemBias: Float32Array;
  /** Training ratings per user (items ascending) with their values. */
  private readonly userOffsets: Int32Array;
  private readonly userItems: Int32Array;
  private readonly userValues: Float32Array;
  private readonly neighbours: number;
  private readonly shrink: number;
  private readonly regUser: number;
  /** Reused scratch: similarity accumulator over items, and per-rated-movie similarities. */
  private readonly acc: Float64Array;
  private sims: Float64Array;

  private constructor(init: {
    featureNames: string[];
    offsets: Int32Array;
    indices: Int32Array;
    values: Float32Array;
    baseline: BiasBaseline;
    userOffsets: Int32Array;
    userItems: Int32Array;
    userValues: Float32Array;
    neighbours: number;
    shrink: number;
    biasShrink: number;
    regUser: number;
    itemCounts: Int32Array;
  }) {
    this.featureNames = init.featureNames;
    this.offsets = init.offsets;
    this.indices = init.indices;
    this.values = init.values;
    this.nItems = init.offsets.length - 1;
    this.baseline = init.baseline;
    this.userOffsets = init.userOffsets;
    this.userItems = init.userItems;
    this.userValues = init.userValues;
    this.neighbours = init.neighbours;
    this.shrink = init.shrink;
    this.regUser = init.regUser;
    const nF = init.featureNames.length;
    // inverted index by a counting sort of the entries by feature
    const postOffsets = new Int32Array(nF + 1);
    for (let t = 0; t < this.indices.length; t++) postOffsets[this.indices[t]! + 1]!++;
    for (let f = 0; f < nF; f++) postOffsets[f + 1]! += postOffsets[f]!;
    const fill = postOffsets.slice(0, nF);
    const postItems = new Int32Array(this.indices.length);
    const postValues = new Float32Array(this.indices.length);
    for (let i = 0; i < this.nItems; i++) {
      for (let t = this.offsets[i]!; t < this.offsets[i + 1]!; t++) {
        const pos = fill[this.indices[t]!]!++;
        postItems[pos] = i;
        postValues[pos] = this.values[t]!;
      }
    }
    this.postOffsets = postOffsets;
    this.postItems = postItems;
    this.postValues = postValues;
    this.acc = new Float64Array(this.nItems);
    let maxRated = 0;
    for (let u = 0; u + 1 < this.userOffsets.length; u++) maxRated = Math.max(maxRated, this.userOffsets[u + 1]! - this.userOffsets[u]!);
    this.sims = new Float64Array(2 * maxRated);
    this.itemBias = this.contentBiases(init.itemCounts, init.biasShrink);
  }

  /** Builds movie vectors from `items` metadata and fits the baseline on `train`. */
  static fit(train: Ratings, items: ReadonlyMap<RawId, ItemMeta>, options: ContentOptions = {}): ContentModel {
    const kinds = options.features ?? ITEM_FEATURE_KINDS;
    const minCount = requireInt('minCount', options.minCount ?? 2, 1);
    const neighbours = requireInt('neighbours', options.neighbours ?? 40, 1);
    const shrink = requireNumber('shrink', options.shrink ?? 1, 0);
    const biasShrink = requireNumber('biasShrink', options.biasShrink ?? 1, 0);
    const regUser = requireNumber('regUser', options.regUser ?? 15, 0);
    if (items.size === 0) {
      throw new CollabError('INVALID_OPTION', 'a content model needs movie metadata (titles, genres, tags), but this dataset has none; load a MovieLens folder', {
        field: 'items',
      });
    }
    const nItems = train.itemIds.size;
    const nUsers = train.userIds.size;
    const { featureNames, offsets, indices, values } = tfidfVectors(nItems, (i) => itemFeatureNames(items.get(train.itemIds.idOf(i)), kinds), minCount);
    const baseline = fitBiasBaseline(train, nUsers, nItems);
    const csr = userItemsCsr(train.users, train.items, nUsers);
    // the values of each (user, item) in csr order
    const userValues = new Float32Array(csr.items.length);
    const lookup = new Map<number, number>();
    for (let r = 0; r < train.ratings.length; r++) lookup.set(train.users[r]! * nItems + train.items[r]!, train.ratings[r]!);
    for (let u = 0; u < nUsers; u++) {
      for (let t = csr.offsets[u]!; t < csr.offsets[u + 1]!; t++) userValues[t] = lookup.get(u * nItems + csr.items[t]!)!;
    }
    const itemCounts = new Int32Array(nItems);
    for (let r = 0; r < train.items.length; r++) itemCounts[train.items[r]!]!++;
    return new ContentModel({
      featureNames,
      offsets,
      indices,
      values,
      baseline,
      userOffsets: csr.offsets,
      userItems: csr.items,
      userValues,
      neighbours,
      shrink,
      biasShrink,
      regUser,
      itemCounts,
    });
  }

  /** Feature names and weights of item i, highest weight first. */
  describeItem(i: number): { feature: string; weight: number }[] {
    const out: { feature: string; weight: number }[] = [];
    for (let t = this.offsets[i]!; t < this.offsets[i + 1]!; t++) out.push({ feature: this.featureNames[this.indices[t]!]!, weight: this.values[t]! });
    return out.sort((a, b) => b.weight - a.weight);
  }

  /** cos(i, j) = v_i·v_j (a merge of two sorted feature lists). */
  similarity(i: number, j: number): number {
    let a = this.offsets[i]!;
    const aEnd = this.offsets[i + 1]!;
    let b = this.offsets[j]!;
    const bEnd = this.offsets[j + 1]!;
    let s = 0;
    while (a < aEnd && b < bEnd) {
      const fa = this.indices[a]!;
      const fb = this.indices[b]!;
      if (fa === fb) s += this.values[a++]! * this.values[b++]!;
      else if (fa < fb) a++;
      else b++;
    }
    return s;
  }

  /** Cosine of item i with every item into `out` (through the inverted index: only items sharing a feature are touched). */
  similarities(i: number, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    const acc = this.acc;
    acc.fill(0);
    // acc[j] += v_if v_jf over i's features f
    for (let t = this.offsets[i]!; t < this.offsets[i + 1]!; t++) {
      const f = this.indices[t]!;
      const vi = this.values[t]!;
      for (let p = this.postOffsets[f]!; p < this.postOffsets[f + 1]!; p++) acc[this.postItems[p]!] += vi * this.postValues[p]!;
    }
    for (let j = 0; j < this.nItems; j++) out[j] = acc[j]!;
    return out;
  }

  /** The n movies most similar to item i by content (i itself left out). */
  similarItems(i: number, n = 10): TopKResult {
    requireInt('item', i, 0, this.nItems - 1);
    return topKForUser(this.similarities(i), n, Int32Array.of(i));
  }

  /** profile = Σ (r_j - r̄) v_j over the given ratings, as a dense feature vector (zeros for no ratings). */
  userProfile(items: Int32Array, ratings: Float32Array): Float64Array {
    const profile = new Float64Array(this.featureNames.length);
    if (items.length === 0) return profile;
    let mean = 0;
    for (let t = 0; t < ratings.length; t++) mean += ratings[t]!;
    mean /= ratings.length;
    for (let t = 0; t < items.length; t++) {
      const j = items[t]!;
      const w = ratings[t]! - mean;
      for (let e = this.offsets[j]!; e < this.offsets[j + 1]!; e++) profile[this.indices[e]!] += w * this.values[e]!;
    }
    return profile;
  }

  /** Cosine of a profile with every movie into `out` (0 for an empty profile or a movie without features). */
  scoreProfile(profile: Float64Array, out: Float32Array = new Float32Array(this.nItems)): Float32Array {
    let norm = 0;
    for (let f = 0; f < profile.length; f++) norm += profile[f]! * profile[f]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    // score_i = profile·v_i / |profile|
    for (let i = 0; i < this.nItems; i++) {
      let s = 0;
      for (let e = this.offsets[i]!; e < this.offsets[i + 1]!; e++) s += profile[this.indices[e]!]! * this.values[e]!;
      out[i] = s * inv;
    }
    return out;
  }

  /** Training items and ratings of dense user u. */
  ratingsOf(u: number): { items: Int32Array; ratings: Float32Array } {
    const a = this.userOffsets[u]!;
    const b = this.userOffsets[u + 1]!;
    return { items: this.userItems.subarray(a, b), ratings: this.userValues.subarray(a, b) };
  }

  /** The user bias of someone with these ratings: b_u = Σ (r - mu - b̂_j) / (regUser + n). */
  userBiasFor(items: Int32Array, ratings: Float32Array): number {
    let s = 0;
    for (let t = 0; t < items.length; t++) s += ratings[t]! - this.baseline.mu - this.itemBias[items[t]!]!;
    return s / (this.regUser + items.length);
  }

  /**
   * Predicted ratings of `targets` for a user who gave (items, ratings) (see the file comment); with no
   * ratings this is mu + b̂_i.
   */
  predictForRatings(items: Int32Array, ratings: Float32Array, targets: Int32Array, out: Float32Array = new Float32Array(targets.length)): Float32Array {
    const mu = this.baseline.mu;
    const bHat = this.itemBias;
    const bu = this.userBiasFor(items, ratings);
    const n = items.length;
    if (this.sims.length < 2 * n) this.sims = new Float64Array(2 * n);
    const sims = this.sims;
    const M = this.neighbours;
    // The rated movies indexed by feature (a user-local inverted index): a target then meets only the
    // rated movies it shares a feature with, instead of a merge against every rated movie.
    const { start, slot, value } = this.localIndex(items);
    for (let t = 0; t < targets.length; t++) {
      const i = targets[t]!;
      let num = 0;
      let den = 0;
      if (n > 0) {
        // sims[q] = cos(i, items[q]) = Σ_f v_if v_qf, f over i's features in ascending order (as similarity())
        sims.fill(0, 0, n);
        for (let e = this.offsets[i]!; e < this.offsets[i + 1]!; e++) {
          const f = this.indices[e]!;
          const vi = this.values[e]!;
          for (let p = start[f]!; p < start[f + 1]!; p++) sims[slot[p]!] += vi * value[p]!;
        }
        // the M-th largest similarity is the cut-off (ties at the cut-off all count)
        let cut = 0;
        if (n > M) {
          const scratch = sims.subarray(n, 2 * n);
          scratch.set(sims.subarray(0, n));
          cut = selectKth(scratch, n - M);
        }
        // Σ s_ij (r_uj - b_uj) / (Σ s_ij + shrink) over neighbours with s_ij > 0
        for (let q = 0; q < n; q++) {
          const s = sims[q]!;
          if (s <= 0 || s < cut) continue;
          num += s * (ratings[q]! - mu - bu - bHat[items[q]!]!);
          den += s;
        }
      }
      out[t] = mu + bu + bHat[i]! + (den > 0 ? num / (den + this.shrink) : 0);
    }
    return out;
  }

  /** Postings of the given movies by feature: feature f's entries are start[f]..start[f+1) of (slot = position in items, value). */
  private localIndex(items: Int32Array): { start: Int32Array; slot: Int32Array; value: Float32Array } {
    const nF = this.featureNames.length;
    const start = new Int32Array(nF + 1);
    let total = 0;
    for (let q = 0; q < items.length; q++) {
      const j = items[q]!;
      total += this.offsets[j + 1]! - this.offsets[j]!;
      for (let e = this.offsets[j]!; e < this.offsets[j + 1]!; e++) start[this.indices[e]! + 1]!++;
    }
    for (let f = 0; f < nF; f++) start[f + 1]! += start[f]!;
    const fill = start.slice(0, nF);
    const slot = new Int32Array(total);
    const value = new Float32Array(total);
    for (let q = 0; q < items.length; q++) {
      const j = items[q]!;
      for (let e = this.offsets[j]!; e < this.offsets[j + 1]!; e++) {
        const pos = fill[this.indices[e]!]!++;
        slot[pos] = q;
        value[pos] = this.values[e]!;
      }
    }
    return { start, slot, value };
  }

  /** Predicted rating of a training user u for item i. */
  predict(u: number, i: number): number {
    const { items, ratings } = this.ratingsOf(u);
    return this.predictForRatings(items, ratings, Int32Array.of(i))[0]!;
  }

  /** Content-predicted biases for movies without training ratings; the fitted b_i for the others. */
  private contentBiases(itemCounts: Int32Array, biasShrink: number): Float32Array {
    const bHat = Float32Array.from(this.baseline.itemBias);
    const M = this.neighbours;
    const sim = new Float32Array(this.nItems);
    for (let i = 0; i < this.nItems; i++) {
      if (itemCounts[i]! > 0) continue;
      this.similarities(i, sim);
      const top = topKForUser(maskUnrated(sim, itemCounts), M);
      let num = 0;
      let den = 0;
      for (let t = 0; t < top.items.length; t++) {
        const s = top.scores[t]!;
        if (!(s > 0)) continue;
        num += s * this.baseline.itemBias[top.items[t]!]!;
        den += s;
      }
      bHat[i] = den > 0 ? num / (den + biasShrink) : 0;
    }
    return bHat;
  }
}

/**
 * The k-th smallest value of `a` (0-based), as a sort would put at a[k], by Hoare's quickselect with a
 * middle pivot; `a` is reordered. O(n) on average, where a sort of every target's neighbours was O(n log n).
 */
export function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Sets the similarity of movies without training ratings to NaN (never selected by top-k). */
function maskUnrated(sim: Float32Array, itemCounts: Int32Array): Float32Array {
  for (let j = 0; j < sim.length; j++) if (itemCounts[j] === 0) sim[j] = NaN;
  return sim;
}

/**
 * TF-IDF movie vectors in CSR: binary term frequency times ln(N / df), each row L2-normalised; features
 * held by fewer than `minCount` movies are dropped. Rows are sorted by feature index.
 */
export function tfidfVectors(
  nItems: number,
  featuresOf: (i: number) => string[],
  minCount = 2,
): { featureNames: string[]; offsets: Int32Array; indices: Int32Array; values: Float32Array; idf: Float64Array } {
  const lists: string[][] = [];
  const df = new Map<string, number>();
  for (let i = 0; i < nItems; i++) {
    const names = [...new Set(featuresOf(i))];
    lists.push(names);
    for (const n of names) df.set(n, (df.get(n) ?? 0) + 1);
  }
  const featureNames = [...df.keys()].filter((n) => df.get(n)! >= minCount).sort();
  const index = new Map(featureNames.map((n, f) => [n, f]));
  const idf = Float64Array.from(featureNames, (n) => Math.log(nItems / df.get(n)!));
  const offsets = new Int32Array(nItems + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < nItems; i++) {
    const fs = lists[i]!
      .map((n) => index.get(n))
      .filter((f): f is number => f !== undefined)
      .sort((a, b) => a - b);
    let norm = 0;
    for (const f of fs) norm += idf[f]! * idf[f]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const f of fs) {
      if (idf[f]! === 0) continue;
      idx.push(f);
      val.push(idf[f]! * inv);
    }
    offsets[i + 1] = idx.length;
  }
  return { featureNames, offsets, indices: Int32Array.from(idx), values: Float32Array.from(val), idf };
}
