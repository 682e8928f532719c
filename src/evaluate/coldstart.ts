import { performance } from 'node:perf_hooks';
import { ContentModel } from '../models/content.js';
import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import type { Dataset, Ratings } from '../data/ratings.js';
import { selectRows } from '../data/ratings.js';
import { userRatingsCsr } from '../data/user-items.js';
import { EmbeddingDotBias } from '../models/dotbias.js';
import { HybridModel } from '../models/hybrid.js';
import { scoreUserVector, userOf } from '../models/scoring.js';
import {
  buildItemFeatures,
  buildUserFeatures,
  ITEM_FEATURE_KINDS,
  USER_FEATURE_KINDS,
  type ItemFeatureKind,
  type UserFeatureKind,
} from '../models/hybrid-features.js';
import { choleskySolve } from '../maths/cholesky.js';
import { foldInScoring } from '../recommend/fold-in.js';
import { PickScorer } from '../recommend/pick-scorer.js';
import { hybridItemTables, userFeatureMap } from '../recommend/feature-map.js';
import type { FeatureTable } from '../models/hybrid.js';
import { topKForUser } from '../maths/top-k.js';
import { collabLearner, ratingStats } from '../train/learner.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { fitBiasBaseline, popularityScores, type BiasBaseline } from '../models/baselines.js';
import { ndcgAtK, precisionAtK } from './ranking-metrics.js';

/**
 * Cold-start protocols, one seeded split and one training run per model:
 * - `heldOutUsers` users (drawn among users with at least 20 ratings) and a `heldOutItemPct` share of the
 *   movies are removed from training entirely; 10% of the remaining ratings are the warm test.
 * - New users (scenario `user-n`): each held-out user's ratings of warm movies are shuffled (seeded); the
 *   first n (n ∈ given) are what the model is told, the ratings after the first max(given) are the test —
 *   the same test for every n, so the rows are comparable. n = 0 means demographics only.
 * - New movies (scenario `item`): the training users' ratings of the held-out movies, predicted from
 *   metadata alone (no model saw a rating of them).
 * Ranking: top k among the candidate movies — warm movies the user has not rated in training (or was not
 * told of), or for `item` the held-out movies; relevant = test ratings ≥ threshold.
 * Rating models rank by predicted rating + popularityWeight · ln(1 + training ratings of the movie), the
 * rule `collab recommend` uses (a predicted rating says how much, not how likely); for new movies every
 * count is unknown, so ln(1 + count) is replaced by its estimate from metadata ({@link metadataPopularity}),
 * the same estimate for every model (popularity itself keeps count 0: it knows nothing of new movies).
 * The hybrid ranks as `collab recommend` ranks it too: its pick head's personalised log-popularity
 * b'_i + p'_u·q'_i takes the place of ln(1 + count) (a new user's p' folded in from the movies they told,
 * starting from what their demographics say; a new movie's q', b' from its metadata). Equal scores are
 * ordered by a seeded random permutation of the movies. Content ranks by the cosine of the user's profile
 * (by predicted rating with the same blend when there is no profile, n = 0).
 * Training: both factor models run their `collab train` recipe (TRAIN_DEFAULTS) unless told otherwise.
 */

/** A cold-start scenario. */
export type ColdScenario = 'warm' | `user-${number}` | 'item';

/** The models compared. */
export type ColdModel = 'hybrid' | 'content' | 'dotbias' | 'bias' | 'popularity';

/** The models of the table, in row order. */
export const COLD_MODELS: readonly ColdModel[] = ['hybrid', 'content', 'dotbias', 'bias', 'popularity'];

/** Options of {@link coldStartBenchmark}. */
export interface ColdStartOptions {
  /** Which protocols: new users, new movies, or both. Default both when the dataset has demographics, else ['items']. */
  scenarios?: ('users' | 'items')[];
  /** Users held out of training. Default 100. */
  heldOutUsers?: number;
  /** Share of movies held out of training. Default 0.1. */
  heldOutItemPct?: number;
  /** Ratings a new user gives, per scenario. Default [0, 1, 5, 10]. */
  given?: number[];
  /** Seed of every draw and of training. Default 42. */
  seed?: number;
  /** Ranking cut-off. Default 10. */
  k?: number;
  /** A test rating ≥ threshold is relevant. Default 4. */
  threshold?: number;
  /** Hybrid user features. Default ['age', 'gender', 'occupation', 'zip'] when the dataset has demographics, else []. */
  userFeatures?: UserFeatureKind[];
  /** Hybrid item features. Default ['genres', 'year', 'tags']. */
  itemFeatures?: ItemFeatureKind[];
  /** Content-model features. Default ['genres', 'year', 'tags', 'title']. */
  contentFeatures?: ItemFeatureKind[];
  /** Training epochs (one-cycle) of dotbias and hybrid. Default 6 (their `collab train` recipe). */
  epochs?: number;
  /** Peak lr. Default 4e-3 (the recipe's). */
  lr?: number;
  /** Embedding width. Default 50. */
  nFactors?: number;
  /** Weight decay. Default 0.2 (the recipe's; the bias tables are not decayed). */
  wd?: number;
  /** Fold-in ridge weight on the user vector (towards the prior: mean user for dotbias, features for hybrid). Default 10. */
  foldInLambda?: number;
  /** Fold-in ridge weight on the user bias (1, ModelRecommender's default, lets one rating swing the bias too far). Default 5. */
  foldInBiasLambda?: number;
  /** Hybrid id dropout of users (see HybridOptions). Default 0. */
  userIdDropout?: number;
  /** Hybrid id dropout of movies (see HybridOptions). Default 0 (the cold movie tables serve new movies). */
  itemIdDropout?: number;
  /** Ridge weight of the features → user representation map of the hybrid ({@link userFeatureMap}). Default 10. */
  mapLambda?: number;
  /** Fold-in ridge weight of a new user's pick vector (towards what their features say). Default 1. */
  pickLambda?: number;
  /** Width of the hybrid's pick head (0: none; the hybrid then ranks with ln(1 + count) as the others). Default nFactors. */
  pickFactors?: number;
  /** Negatives per batch of the pick head's sampled softmax. Default 32. */
  pickNegatives?: number;
  /** Ranking blend weight w of score + w·ln(1 + count). Default 0.5. */
  popularityWeight?: number;
  /** Progress lines. Default none. */
  onProgress?: (line: string) => void;
}

/** One row of the table. */
export interface ColdStartRow {
  scenario: ColdScenario;
  model: ColdModel;
  /** RMSE over the scenario's test ratings (NaN for popularity, which predicts no rating). */
  rmse: number;
  /** precision@k and nDCG@k averaged over the users with a relevant test movie. */
  precision: number;
  ndcg: number;
  /** Test ratings scored by RMSE and users averaged by the ranking metrics. */
  ratings: number;
  users: number;
}

/** The whole benchmark. */
export interface ColdStartReport {
  dataset: string;
  seed: number;
  k: number;
  threshold: number;
  heldOutUsers: number;
  heldOutItems: number;
  trainRatings: number;
  userFeatures: string[];
  itemFeatures: string[];
  contentFeatures: string[];
  trainSeconds: { hybrid: number; dotbias: number; content: number };
  rows: ColdStartRow[];
}

/** What a model must answer in every scenario: rating predictions and a ranking score per candidate. */
interface ColdScorer {
  /** Predicted ratings of `targets` for dense user u (a training user) into out. */
  warm(u: number, targets: Int32Array, out: Float32Array): void;
  /** Predicted ratings of `targets` for a new user (dense u, never trained) told (items, ratings). */
  cold(u: number, items: Int32Array, ratings: Float32Array, targets: Int32Array, out: Float32Array): void;
  /**
   * Ranking scores of every movie; `predicted` holds this user's predicted ratings of every movie, (items,
   * ratings) what the user rated (training ratings, or what a new user told when `cold`).
   */
  rank?(u: number, items: Int32Array, ratings: Float32Array, predicted: Float32Array, out: Float32Array, cold: boolean): void;
}

/** Runs the cold-start protocols on a dataset (ratings plus metadata). */
export async function coldStartBenchmark(data: Dataset, options: ColdStartOptions = {}): Promise<ColdStartReport> {
  const hasDemographics = data.users.size > 0;
  const scenarios = options.scenarios ?? (hasDemographics ? ['users', 'items'] : ['items']);
  const nHeldUsersWanted = requireInt('heldOutUsers', options.heldOutUsers ?? 100, 0);
  const itemPct = requireNumber('heldOutItemPct', options.heldOutItemPct ?? 0.1, 0, 0.9);
  const given = (options.given ?? [0, 1, 5, 10]).map((n) => requireInt('given', n, 0));
  const seed = requireInt('seed', options.seed ?? 42, 0, 0xffffffff);
  const K = requireInt('k', options.k ?? 10, 1);
  const threshold = requireNumber('threshold', options.threshold ?? 4);
  const userKinds = options.userFeatures ?? (hasDemographics ? [...USER_FEATURE_KINDS] : []);
  const itemKinds = options.itemFeatures ?? ['genres', 'year', 'tags'];
  const contentKinds = options.contentFeatures ?? [...ITEM_FEATURE_KINDS];
  const recipe = TRAIN_DEFAULTS.hybrid;
  const epochs = requireInt('epochs', options.epochs ?? recipe.epochs, 1);
  const lr = requireNumber('lr', options.lr ?? recipe.lr, 0);
  const nFactors = requireInt('nFactors', options.nFactors ?? recipe.nFactors, 1);
  const wd = requireNumber('wd', options.wd ?? recipe.wd, 0);
  const foldInLambda = requireNumber('foldInLambda', options.foldInLambda ?? 10, 0);
  const foldInBiasLambda = requireNumber('foldInBiasLambda', options.foldInBiasLambda ?? 5, 0);
  const popW = requireNumber('popularityWeight', options.popularityWeight ?? 0.5, 0);
  const userIdDropout = requireNumber('userIdDropout', options.userIdDropout ?? 0, 0, 1);
  const itemIdDropout = requireNumber('itemIdDropout', options.itemIdDropout ?? 0, 0, 1);
  const mapLambda = requireNumber('mapLambda', options.mapLambda ?? 10, 0);
  const pickLambda = requireNumber('pickLambda', options.pickLambda ?? 1, 0);
  const pickFactors = requireInt('pickFactors', options.pickFactors ?? nFactors, 0);
  const pickNegatives = requireInt('pickNegatives', options.pickNegatives ?? 32, 1);
  const progress = options.onProgress ?? (() => {});
  if (scenarios.includes('users') && userKinds.length > 0 && !hasDemographics) {
    throw new CollabError('INVALID_OPTION', `${data.name} has no user demographics; use --user-features none or a dataset with u.user / users.dat`, { field: 'userFeatures' });
  }
  const maxGiven = given.length > 0 ? Math.max(...given) : 0;

  // ---- the split (one RandomState, drawn in a fixed order: users, items, warm test, per-user orders)
  const all = data.ratings;
  const nUsers = all.userIds.size;
  const nItems = all.itemIds.size;
  const n = all.ratings.length;
  const userCount = new Int32Array(nUsers);
  for (let r = 0; r < n; r++) userCount[all.users[r]!]!++;
  const rng = new RandomState(seed);
  const isColdUser = new Uint8Array(nUsers);
  const isColdItem = new Uint8Array(nItems);
  let heldUsers: number[] = [];
  if (scenarios.includes('users')) {
    const eligible = Array.from(userCount.keys()).filter((u) => userCount[u]! >= Math.max(20, maxGiven + 5));
    const perm = rng.permutation(eligible.length);
    heldUsers = Array.from(perm.subarray(0, Math.min(nHeldUsersWanted, eligible.length)), (t) => eligible[t]!).sort((a, b) => a - b);
    for (const u of heldUsers) isColdUser[u] = 1;
  }
  let nColdItems = 0;
  if (scenarios.includes('items')) {
    const perm = rng.permutation(nItems);
    nColdItems = Math.floor(nItems * itemPct);
    for (let t = 0; t < nColdItems; t++) isColdItem[perm[t]!] = 1;
  }
  const warmRows: number[] = [];
  const coldUserRows = new Map<number, number[]>();
  const coldItemRows: number[] = [];
  for (let r = 0; r < n; r++) {
    const u = all.users[r]!;
    const i = all.items[r]!;
    if (isColdUser[u] && isColdItem[i]) continue;
    if (isColdUser[u]) (coldUserRows.get(u) ?? coldUserRows.set(u, []).get(u)!).push(r);
    else if (isColdItem[i]) coldItemRows.push(r);
    else warmRows.push(r);
  }
  const warmPerm = rng.permutation(warmRows.length);
  const nWarmTest = Math.floor(warmRows.length * 0.1);
  const isWarmTest = new Uint8Array(warmRows.length);
  for (let t = 0; t < nWarmTest; t++) isWarmTest[warmPerm[t]!] = 1;
  const trainRows = Int32Array.from(warmRows.filter((_, t) => !isWarmTest[t]));
  const warmTestRows = Int32Array.from(warmRows.filter((_, t) => isWarmTest[t]));
  const train = selectRows(all, trainRows);
  const warmTest = selectRows(all, warmTestRows);
  const coldItemTest = selectRows(all, Int32Array.from(coldItemRows));
  // each new user's warm ratings in a seeded order: the first n are told, those after maxGiven are the test
  const newUsers = heldUsers.map((u) => {
    const rows = coldUserRows.get(u) ?? [];
    const order = rng.permutation(rows.length);
    return { u, rows: Array.from(order, (t) => rows[t]!) };
  });
  progress(
    `${data.name}: train ${train.ratings.length} ratings; warm test ${warmTest.ratings.length}; ${heldUsers.length} new users; ${nColdItems} new movies with ${coldItemTest.ratings.length} ratings`,
  );

  // ---- models
  const stats = ratingStats(train);
  const yRange: [number, number] = [0, stats.max + 0.5];
  const userFeatures = buildUserFeatures(all.userIds, data.users, userKinds);
  const itemFeatures = buildItemFeatures(all.itemIds, data.items, itemKinds);
  let t0 = performance.now();
  const hybridLearner = collabLearner(train, undefined, {
    model: 'hybrid',
    nFactors,
    wd,
    seed,
    modelConfig: {
      yRange,
      userFeatures,
      itemFeatures,
      userIdDropout: userFeatures.names.length > 0 ? userIdDropout : 0,
      itemIdDropout: itemFeatures.names.length > 0 ? itemIdDropout : 0,
      pickFactors,
      pickNegatives,
    },
  });
  try {
    await hybridLearner.fitOneCycle(epochs, lr);
    hybridLearner.exportState(); // flushes the lazily updated rows (the pick head's too)
  } finally {
    await hybridLearner.close();
  }
  const hybridSeconds = (performance.now() - t0) / 1000;
  const hybrid = hybridLearner.model as HybridModel;
  progress(`hybrid trained in ${hybridSeconds.toFixed(1)} s (${userFeatures.names.length} user and ${itemFeatures.names.length} item features)`);
  t0 = performance.now();
  const dotLearner = collabLearner(train, undefined, { model: 'dotbias', nFactors, wd, seed, yRange });
  try {
    await dotLearner.fitOneCycle(epochs, lr);
  } finally {
    await dotLearner.close();
  }
  const dotSeconds = (performance.now() - t0) / 1000;
  const dot = dotLearner.model as EmbeddingDotBias;
  progress(`dotbias trained in ${dotSeconds.toFixed(1)} s`);
  t0 = performance.now();
  const content = ContentModel.fit(train, data.items, { features: contentKinds });
  const contentSeconds = (performance.now() - t0) / 1000;
  const baseline = fitBiasBaseline(train, nUsers, nItems);
  const counts = popularityScores(train.items, nItems);
  // ln(1 + count), estimated from metadata for movies nobody rated in training
  const logCounts = metadataPopularity(buildItemFeatures(all.itemIds, data.items, contentKinds), counts);

  const scorers: Partial<Record<ColdModel, ColdScorer>> = {
    hybrid: hybridScorer(hybrid, train, { lambda: foldInLambda, biasLambda: foldInBiasLambda, mapLambda, pickLambda, popularityWeight: popW }),
    content: contentScorer(content),
    dotbias: dotScorer(dot, train, foldInLambda, foldInBiasLambda),
    bias: biasScorer(baseline),
  };

  // ---- evaluation
  const rows: ColdStartRow[] = [];
  const allItems = Int32Array.from({ length: nItems }, (_, i) => i);
  const predicted = new Float32Array(nItems);
  const score = new Float32Array(nItems);
  const permuted = new Float32Array(nItems);
  const tiePerm = new RandomState(seed + 2).permutation(nItems);
  const trainByUser = groupRows(train);
  const isTrainItem = new Uint8Array(nItems);
  for (let r = 0; r < train.items.length; r++) isTrainItem[train.items[r]!] = 1;

  /** One scenario: test rows per user, what each user told the model, the candidate mask. */
  const evaluate = (
    scenario: ColdScenario,
    users: { u: number; toldItems: Int32Array; toldRatings: Float32Array; testItems: Int32Array; testRatings: Float32Array; cold: boolean }[],
    candidate: (u: number, i: number) => boolean,
  ): void => {
    for (const model of COLD_MODELS) {
      const scorer = scorers[model];
      let se = 0;
      let nRatings = 0;
      let pSum = 0;
      let nSum = 0;
      let nUsersRanked = 0;
      for (const e of users) {
        if (scorer) {
          const out = new Float32Array(e.testItems.length);
          if (e.cold) scorer.cold(e.u, e.toldItems, e.toldRatings, e.testItems, out);
          else scorer.warm(e.u, e.testItems, out);
          for (let t = 0; t < out.length; t++) {
            const err = out[t]! - e.testRatings[t]!;
            se += err * err;
          }
          nRatings += out.length;
        }
        const relevant = new Set<number>();
        for (let t = 0; t < e.testItems.length; t++) if (e.testRatings[t]! >= threshold && candidate(e.u, e.testItems[t]!)) relevant.add(e.testItems[t]!);
        if (relevant.size === 0) continue;
        if (scorer) {
          if (e.cold) scorer.cold(e.u, e.toldItems, e.toldRatings, allItems, predicted);
          else scorer.warm(e.u, allItems, predicted);
          const told = e.cold ? e.toldItems : trainByUser.items(e.u);
          const toldR = e.cold ? e.toldRatings : trainByUser.ratings(e.u);
          if (scorer.rank) scorer.rank(e.u, told, toldR, predicted, score, e.cold);
          else for (let i = 0; i < nItems; i++) score[i] = predicted[i]! + popW * logCounts[i]!;
        } else score.set(counts);
        for (let i = 0; i < nItems; i++) if (!candidate(e.u, i)) score[i] = NaN;
        if (e.cold) for (let t = 0; t < e.toldItems.length; t++) score[e.toldItems[t]!] = NaN;
        // ties in a seeded random order, not by dense index (which follows first appearance in the file and so leaks popularity)
        for (let j = 0; j < nItems; j++) permuted[j] = score[tiePerm[j]!]!;
        const topP = topKForUser(permuted, K).items;
        const top = Int32Array.from(topP, (j) => tiePerm[j]!);
        pSum += precisionAtK(top, relevant, K);
        nSum += ndcgAtK(top, relevant, K);
        nUsersRanked++;
      }
      rows.push({
        scenario,
        model,
        rmse: nRatings > 0 ? Math.sqrt(se / nRatings) : NaN,
        precision: nUsersRanked > 0 ? pSum / nUsersRanked : NaN,
        ndcg: nUsersRanked > 0 ? nSum / nUsersRanked : NaN,
        ratings: nRatings,
        users: nUsersRanked,
      });
    }
  };

  // warm: training users on training movies, candidates = warm movies they did not rate in training
  const warmGroups = groupRows(warmTest);
  const warmUsers = [];
  for (let u = 0; u < nUsers; u++) {
    const testItems = warmGroups.items(u);
    if (testItems.length === 0) continue;
    warmUsers.push({ u, toldItems: new Int32Array(0), toldRatings: new Float32Array(0), testItems, testRatings: warmGroups.ratings(u), cold: false });
  }
  const ratedInTrain = new Set<number>();
  for (let r = 0; r < train.users.length; r++) ratedInTrain.add(train.users[r]! * nItems + train.items[r]!);
  evaluate('warm', warmUsers, (u, i) => isTrainItem[i] === 1 && !ratedInTrain.has(u * nItems + i));
  progress('warm scenario done');

  if (scenarios.includes('users')) {
    for (const nGiven of given) {
      const users = newUsers
        .filter((e) => e.rows.length > maxGiven)
        .map((e) => {
          const told = e.rows.slice(0, nGiven);
          const test = e.rows.slice(maxGiven);
          return {
            u: e.u,
            toldItems: Int32Array.from(told, (r) => all.items[r]!),
            toldRatings: Float32Array.from(told, (r) => all.ratings[r]!),
            testItems: Int32Array.from(test, (r) => all.items[r]!),
            testRatings: Float32Array.from(test, (r) => all.ratings[r]!),
            cold: true,
          };
        });
      evaluate(`user-${nGiven}`, users, (_u, i) => isTrainItem[i] === 1);
      progress(`new users with ${nGiven} ratings done`);
    }
  }

  if (scenarios.includes('items')) {
    const g = groupRows(coldItemTest);
    const users = [];
    for (let u = 0; u < nUsers; u++) {
      const testItems = g.items(u);
      if (testItems.length === 0) continue;
      users.push({ u, toldItems: new Int32Array(0), toldRatings: new Float32Array(0), testItems, testRatings: g.ratings(u), cold: false });
    }
    evaluate('item', users, (_u, i) => isColdItem[i] === 1);
    progress('new movies done');
  }

  return {
    dataset: data.name,
    seed,
    k: K,
    threshold,
    heldOutUsers: heldUsers.length,
    heldOutItems: nColdItems,
    trainRatings: train.ratings.length,
    userFeatures: userKinds,
    itemFeatures: itemKinds,
    contentFeatures: contentKinds,
    trainSeconds: { hybrid: hybridSeconds, dotbias: dotSeconds, content: contentSeconds },
    rows,
  };
}

/**
 * ln(1 + training ratings) of every movie, with the movies nobody rated estimated by ridge regression on
 * their metadata: y_i = w_0 + Σ_{f ∈ F(i)} w_f over rated movies, (XᵀX + λI) w = Xᵀy with binary
 * indicators X (intercept unpenalised). Many tags or a recent year predict many ratings.
 */
export function metadataPopularity(features: FeatureTable, counts: Float32Array, lambda = 1): Float32Array {
  const nF = features.names.length;
  const d = nF + 1;
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  const nItems = counts.length;
  const out = Float32Array.from(counts, (c) => Math.log1p(c));
  const row: number[] = [];
  for (let i = 0; i < nItems; i++) {
    if (counts[i]! === 0) continue;
    row.length = 0;
    row.push(nF);
    for (let t = features.offsets[i]!; t < features.offsets[i + 1]!; t++) row.push(features.indices[t]!);
    // A += x xᵀ, b += x y for the binary row x
    const y = out[i]!;
    for (const a of row) {
      b[a] += y;
      for (const c of row) A[a * d + c] += 1;
    }
  }
  for (let f = 0; f < nF; f++) A[f * d + f] += lambda;
  A[nF * d + nF] += 1e-9;
  choleskySolve(A, b, d);
  for (let i = 0; i < nItems; i++) {
    if (counts[i]! > 0) continue;
    let y = b[nF]!;
    for (let t = features.offsets[i]!; t < features.offsets[i + 1]!; t++) y += b[features.indices[t]!]!;
    out[i] = Math.max(0, y);
  }
  return out;
}

/** Per-user rows of a table (items ascending, with their ratings), from the dataset's one per-user index. */
function groupRows(r: Ratings): { items(u: number): Int32Array; ratings(u: number): Float32Array } {
  const { offsets, items, ratings } = userRatingsCsr(r, r.userIds.size);
  return {
    items: (u) => items.subarray(offsets[u]!, offsets[u + 1]!),
    ratings: (u) => ratings.subarray(offsets[u]!, offsets[u + 1]!),
  };
}

/**
 * Hybrid: training users by their own representation; a new user starts from what their features say
 * and is folded in from there; a new movie is its metadata's cold representation. With a pick head it
 * ranks by predicted rating + w · (b'_i + p'_u·q'_i), its personalised log-popularity in place of
 * ln(1 + count); a new user's p' is folded in from the movies they rated ({@link foldInSoftmax}).
 */
function hybridScorer(model: HybridModel, train: Ratings, o: { lambda: number; biasLambda: number; mapLambda: number; pickLambda: number; popularityWeight: number }): ColdScorer {
  const { lambda, biasLambda, mapLambda } = o;
  const trainedUsers = new Uint8Array(model.nUsers);
  for (let r = 0; r < train.users.length; r++) trainedUsers[train.users[r]!] = 1;
  const trainedItems = new Uint8Array(model.nItems);
  for (let r = 0; r < train.items.length; r++) trainedItems[train.items[r]!] = 1;
  const map = userFeatureMap(model, trainedUsers, mapLambda);
  // the movies; one that never trained is what its metadata says
  const { pick } = hybridItemTables(model, trainedItems);
  const scoring = model.factorScoring();
  const pickScorer = pick ? new PickScorer(model, pick, trainedUsers, trainedItems, o.pickLambda) : undefined;
  const scorer: ColdScorer = {
    warm(u, targets, out) {
      const rep = userOf(scoring, u);
      scoreUserVector(scoring, rep.vector, rep.bias, out, undefined, targets);
    },
    cold(u, items, ratings, targets, out) {
      // the prior is what the user's features say (the id rows of a never-trained user are only init noise)
      const prior = map.predict(u);
      if (items.length === 0) return scoreUserVector(scoring, prior.vector, prior.bias, out, undefined, targets);
      const fit = foldInScoring(scoring, items, ratings, { lambda, biasLambda, priorVector: prior.vector, priorBias: prior.bias });
      scoreUserVector(scoring, fit.userVector, fit.userBias, out, undefined, targets);
    },
  };
  if (pickScorer) {
    scorer.rank = (u, items, _ratings, predicted, out, cold) => {
      // a new user's p' is folded in from what they told, starting from what their demographics say
      pickScorer.score(cold ? pickScorer.foldIn(items, map.predict(u).pickVector!) : pickScorer.user(u), out);
      const w = o.popularityWeight;
      for (let i = 0; i < out.length; i++) out[i] = predicted[i]! + w * out[i]!;
    };
  }
  return scorer;
}

/** dotbias: new users are folded in towards the mean trained user (the mean user itself for 0 ratings). */
function dotScorer(model: EmbeddingDotBias, train: Ratings, lambda: number, biasLambda: number): ColdScorer {
  const scoring = model.factorScoring();
  const { k, P } = scoring;
  const bu = scoring.bu!;
  const trained = new Uint8Array(model.nUsers);
  for (let r = 0; r < train.users.length; r++) trained[train.users[r]!] = 1;
  const sum = new Float64Array(k);
  let bias = 0;
  let m = 0;
  for (let u = 0; u < model.nUsers; u++) {
    if (!trained[u]) continue;
    for (let f = 0; f < k; f++) sum[f] += P[u * k + f]!;
    bias += bu[u]!;
    m++;
  }
  const mean = { vector: Float32Array.from(sum, (x) => x / m), bias: bias / m };
  return {
    warm(u, targets, out) {
      for (let t = 0; t < targets.length; t++) out[t] = model.predict(u, targets[t]!);
    },
    cold(_u, items, ratings, targets, out) {
      if (items.length === 0) return scoreUserVector(scoring, mean.vector, mean.bias, out, undefined, targets);
      const fit = foldInScoring(scoring, items, ratings, { lambda, biasLambda, priorVector: mean.vector, priorBias: mean.bias });
      scoreUserVector(scoring, fit.userVector, fit.userBias, out, undefined, targets);
    },
  };
}

/** Content: kNN-on-content rating prediction; ranking by the cosine of the user's profile. */
function contentScorer(model: ContentModel): ColdScorer {
  return {
    warm(u, targets, out) {
      const { items, ratings } = model.ratingsOf(u);
      model.predictForRatings(items, ratings, targets, out);
    },
    cold(_u, items, ratings, targets, out) {
      model.predictForRatings(items, ratings, targets, out);
    },
    rank(_u, items, ratings, predicted, out) {
      const profile = model.userProfile(items, ratings);
      let any = false;
      for (let f = 0; f < profile.length && !any; f++) any = profile[f] !== 0;
      if (any) model.scoreProfile(profile, out);
      // no profile (no ratings, or all equal): rank by predicted rating (mu + content bias)
      else out.set(predicted);
    },
  };
}

/** Bias baseline: mu + b_u + b_i; a new user's b_u from the ratings told, b_i = 0 for a new movie. */
function biasScorer(b: BiasBaseline): ColdScorer {
  return {
    warm(u, targets, out) {
      for (let t = 0; t < targets.length; t++) out[t] = b.mu + b.userBias[u]! + b.itemBias[targets[t]!]!;
    },
    cold(_u, items, ratings, targets, out) {
      let s = 0;
      for (let t = 0; t < items.length; t++) s += ratings[t]! - b.mu - b.itemBias[items[t]!]!;
      const bu = s / (15 + items.length);
      for (let t = 0; t < targets.length; t++) out[t] = b.mu + bu + b.itemBias[targets[t]!]!;
    },
  };
}

/** The table as text: one line per (scenario, model). */
export function formatColdStartTable(report: ColdStartReport): string[] {
  const f = (x: number): string => (Number.isNaN(x) ? '    -' : x.toFixed(3));
  const lines = [`scenario  model        RMSE   P@${report.k}  nDCG@${report.k}  ratings  users`];
  for (const r of report.rows) {
    lines.push(
      `${r.scenario.padEnd(10)}${r.model.padEnd(11)}${f(r.rmse)}  ${f(r.precision)}  ${f(r.ndcg)}  ${String(r.ratings).padStart(7)}  ${String(r.users).padStart(5)}`,
    );
  }
  return lines;
}

/** Mean and sample standard deviation of one figure over seeds (NaN figures, like popularity's RMSE, stay NaN). */
export interface SeedStat {
  mean: number;
  sd: number;
}

/** One (scenario, model) row over several seeds. */
export interface ColdStartSummaryRow {
  scenario: ColdScenario;
  model: ColdModel;
  rmse: SeedStat;
  precision: SeedStat;
  ndcg: SeedStat;
  /** In how many seeds this model beat dotbias (lower RMSE, higher P@k, higher nDCG@k); absent on dotbias's own rows. */
  beatsDotbias?: { rmse: number; precision: number; ndcg: number };
}

/** The benchmark repeated over seeds (each draws its own held-out users, movies and warm test): one report per seed and their summary. */
export interface ColdStartSeedsReport {
  seeds: number[];
  reports: ColdStartReport[];
  rows: ColdStartSummaryRow[];
}

function seedStat(values: number[]): SeedStat {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}

/**
 * Runs {@link coldStartBenchmark} once per seed and summarises each row: one split of 100 users is noisy
 * (a seed whose held-out users are unusually harsh raters moves every RMSE), several seeds say how much.
 */
export async function coldStartSeeds(data: Dataset, options: Omit<ColdStartOptions, 'seed'>, seeds: readonly number[]): Promise<ColdStartSeedsReport> {
  if (seeds.length === 0) throw new CollabError('INVALID_OPTION', 'seeds must list at least one seed', { field: 'seeds' });
  const reports: ColdStartReport[] = [];
  for (const seed of seeds) {
    options.onProgress?.(`seed ${seed}`);
    reports.push(await coldStartBenchmark(data, { ...options, seed }));
  }
  const rows = reports[0]!.rows.map((first, j): ColdStartSummaryRow => {
    const per = reports.map((r) => r.rows[j]!);
    const row: ColdStartSummaryRow = {
      scenario: first.scenario,
      model: first.model,
      rmse: seedStat(per.map((r) => r.rmse)),
      precision: seedStat(per.map((r) => r.precision)),
      ndcg: seedStat(per.map((r) => r.ndcg)),
    };
    if (first.model !== 'dotbias') {
      const dot = reports.map((r) => r.rows.find((x) => x.scenario === first.scenario && x.model === 'dotbias')!);
      row.beatsDotbias = {
        rmse: per.filter((r, s) => r.rmse < dot[s]!.rmse).length,
        precision: per.filter((r, s) => r.precision > dot[s]!.precision).length,
        ndcg: per.filter((r, s) => r.ndcg > dot[s]!.ndcg).length,
      };
    }
    return row;
  });
  return { seeds: [...seeds], reports, rows };
}

/** The summary as text: mean ± sd per figure, and the hybrid's wins over dotbias out of the seeds. */
export function formatColdStartSummary(summary: ColdStartSeedsReport): string[] {
  const k = summary.reports[0]!.k;
  const n = summary.seeds.length;
  const f = (s: SeedStat): string => (Number.isNaN(s.mean) ? '       -     ' : `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`);
  const lines = [`${n} seeds (${summary.seeds.join(', ')}): mean ± sd; wins = seeds in which the model beat dotbias (RMSE / P@${k} / nDCG@${k})`];
  lines.push(`scenario  model      RMSE           P@${k}           nDCG@${k}        wins`);
  for (const r of summary.rows) {
    const wins = r.beatsDotbias ? `${Number.isNaN(r.rmse.mean) ? '-' : r.beatsDotbias.rmse}/${r.beatsDotbias.precision}/${r.beatsDotbias.ndcg}` : '';
    lines.push(`${r.scenario.padEnd(10)}${r.model.padEnd(11)}${f(r.rmse)}  ${f(r.precision)}  ${f(r.ndcg)}  ${wins}`);
  }
  return lines;
}
