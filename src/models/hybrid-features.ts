import { CollabError, requireInt } from '../core/errors.js';
import type { IdMap, RawId } from '../data/id-map.js';
import type { ItemMeta, UserMeta } from '../data/ratings.js';
import type { FeatureTable } from './hybrid.js';

/** User side features the hybrid can use (ml-100k u.user, ml-1m users.dat). */
export type UserFeatureKind = 'age' | 'gender' | 'occupation' | 'zip';
/** Item side features the hybrid can use (titles, genres, years, ml-latest tags). */
export type ItemFeatureKind = 'genres' | 'year' | 'tags' | 'title';

/** Every user feature kind, in flag order. */
export const USER_FEATURE_KINDS: readonly UserFeatureKind[] = ['age', 'gender', 'occupation', 'zip'];
/** Every item feature kind, in flag order. */
export const ITEM_FEATURE_KINDS: readonly ItemFeatureKind[] = ['genres', 'year', 'tags', 'title'];

/** Options of the feature builders. */
export interface FeatureBuildOptions {
  /** Features held by fewer entities than this are dropped (a tag on one movie teaches nothing). Default 2. */
  minCount?: number;
}

/** ml-1m's age groups, used for ml-100k's exact ages too: under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+. */
export function ageBucket(age: number): string {
  if (age < 18) return 'age:<18';
  if (age < 25) return 'age:18-24';
  if (age < 35) return 'age:25-34';
  if (age < 45) return 'age:35-44';
  if (age < 50) return 'age:45-49';
  if (age < 56) return 'age:50-55';
  return 'age:56+';
}

/** Release year in 5-year buckets from 1970 ("year:1995-1999"), decades before ("year:1940s"). */
export function yearBucket(year: number): string {
  if (year < 1970) return `year:${Math.floor(year / 10) * 10}s`;
  const b = Math.floor(year / 5) * 5;
  return `year:${b}-${b + 4}`;
}

const STOP_WORDS = new Set(['the', 'a', 'an', 'of', 'and', 'in', 'to', 'on', 'for', 'with', 'la', 'le', 'les', 'de', 'il', 'el']);

/** Lower-cased title words without the "(1995)" year and stop words ("Toy Story (1995)" → toy, story). */
export function titleWords(title: string): string[] {
  const bare = title.replace(/\(\d{4}\)\s*$/, '').toLowerCase();
  return (bare.match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1 && !STOP_WORDS.has(w));
}

/** Names of one user's features. */
export function userFeatureNames(meta: UserMeta | undefined, kinds: readonly UserFeatureKind[]): string[] {
  if (!meta) return [];
  const out: string[] = [];
  for (const kind of kinds) {
    if (kind === 'age' && meta.age !== undefined) out.push(ageBucket(meta.age));
    if (kind === 'gender' && meta.gender) out.push(`gender:${meta.gender}`);
    if (kind === 'occupation' && meta.occupation) out.push(`occupation:${meta.occupation}`);
    // The first zip digit is a US region (0 = New England ... 9 = West Coast); finer prefixes are too sparse.
    if (kind === 'zip' && meta.zip) out.push(`zip:${/^\d/.test(meta.zip) ? meta.zip[0] : 'other'}`);
  }
  return out;
}

/** Names of one movie's features. */
export function itemFeatureNames(meta: ItemMeta | undefined, kinds: readonly ItemFeatureKind[]): string[] {
  if (!meta) return [];
  const out: string[] = [];
  for (const kind of kinds) {
    if (kind === 'genres') for (const g of meta.genres) if (g && g !== '(no genres listed)' && g !== 'unknown') out.push(`genre:${g}`);
    if (kind === 'year' && meta.year !== undefined) out.push(yearBucket(meta.year));
    if (kind === 'tags') for (const t of meta.tags ?? []) out.push(`tag:${t}`);
    if (kind === 'title') for (const w of titleWords(meta.title)) out.push(`word:${w}`);
  }
  return [...new Set(out)];
}

/**
 * The feature table of every dense index of `ids`: each entity's features (kept when at least `minCount`
 * entities share them), weighted 1/|features| so a representation is the mean of its feature embeddings.
 */
function buildTable(ids: IdMap, namesOf: (id: RawId) => string[], options: FeatureBuildOptions): FeatureTable {
  const minCount = requireInt('minCount', options.minCount ?? 2, 1);
  const perEntity: string[][] = [];
  const counts = new Map<string, number>();
  for (let d = 0; d < ids.size; d++) {
    const names = namesOf(ids.idOf(d));
    perEntity.push(names);
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  const names = [...counts.keys()].filter((n) => counts.get(n)! >= minCount).sort();
  const index = new Map(names.map((n, f) => [n, f]));
  const offsets = [0];
  const indices: number[] = [];
  const weights: number[] = [];
  for (const list of perEntity) {
    const kept = list.filter((n) => index.has(n));
    for (const n of kept) {
      indices.push(index.get(n)!);
      weights.push(1 / kept.length);
    }
    offsets.push(indices.length);
  }
  return { names, offsets, indices, weights };
}

/** User features for every user of `userIds` from their demographics. */
export function buildUserFeatures(
  userIds: IdMap,
  users: ReadonlyMap<RawId, UserMeta>,
  kinds: readonly UserFeatureKind[],
  options: FeatureBuildOptions = {},
): FeatureTable {
  if (kinds.length > 0 && users.size === 0) {
    throw new CollabError(
      'INVALID_OPTION',
      `user features ${kinds.join(',')} need demographics, but this dataset has none (ml-100k u.user and ml-1m users.dat do); drop --user-features or use such a dataset`,
      { field: 'userFeatures' },
    );
  }
  return buildTable(userIds, (id) => userFeatureNames(users.get(id), kinds), options);
}

/** Item features for every movie of `itemIds` from its metadata. */
export function buildItemFeatures(
  itemIds: IdMap,
  items: ReadonlyMap<RawId, ItemMeta>,
  kinds: readonly ItemFeatureKind[],
  options: FeatureBuildOptions = {},
): FeatureTable {
  if (kinds.length > 0 && items.size === 0) {
    throw new CollabError('INVALID_OPTION', `item features ${kinds.join(',')} need movie metadata, but this dataset has none; drop --item-features or load a MovieLens folder`, {
      field: 'itemFeatures',
    });
  }
  return buildTable(itemIds, (id) => itemFeatureNames(items.get(id), kinds), options);
}

/** Parses a comma list such as "age,gender,occupation,zip" ("none" or "" gives []), naming the flag on a bad entry. */
export function parseFeatureKinds<K extends string>(text: string, allowed: readonly K[], flag: string): K[] {
  const t = text.trim();
  if (t === '' || t === 'none') return [];
  const out: K[] = [];
  for (const part of t.split(',')) {
    const p = part.trim() as K;
    if (!allowed.includes(p)) {
      throw new CollabError('USAGE', `--${flag} has unknown feature "${part.trim()}"; use a comma list of ${allowed.join(', ')} (or none)`, { field: flag });
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}
