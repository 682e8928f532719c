import { createHash } from 'node:crypto';
import { CollabError } from '../core/errors.js';
import type { RawId } from './id-map.js';
import type { Dataset } from './ratings.js';

/**
 * What a dataset is, independent of which of its ratings a model trained on: its name and a hash of
 * its catalogue (the movie ids of its metadata), so a model or database of ml-100k can tell it is
 * handed ml-latest-small, whose movie ids name other films.
 */
export interface DatasetIdentity {
  /** Dataset name (ml-100k, ml-latest-small, a folder's name, ...). */
  name: string;
  /** Number of movies in the catalogue. */
  items: number;
  /** sha256 (hex) of the catalogue's ids as text, sorted, one per line. */
  catalogueSha256: string;
}

/**
 * The identity of a dataset with a catalogue (movie metadata), or undefined for a bare ratings file:
 * its rated movies differ from split to split, so they cannot say which dataset it belongs to.
 */
export function datasetIdentity(ds: Pick<Dataset, 'name' | 'items'>): DatasetIdentity | undefined {
  if (ds.items.size === 0) return undefined;
  return catalogueIdentity(ds.name, [...ds.items.keys()]);
}

/** The identity of a named catalogue of movie ids (their order does not matter). */
export function catalogueIdentity(name: string, itemIds: readonly RawId[]): DatasetIdentity {
  const ids = itemIds.map(String).sort();
  const hash = createHash('sha256').update('collab-catalogue-v1\n');
  for (const id of ids) hash.update(`${id}\n`);
  return { name, items: ids.length, catalogueSha256: hash.digest('hex') };
}

/** Whether two identities are the same catalogue (names may differ: a dataset copied under another folder name is the same). */
export function sameDataset(a: DatasetIdentity, b: DatasetIdentity): boolean {
  return a.catalogueSha256 === b.catalogueSha256;
}

/**
 * Refuses to use something made from one dataset with another: `have` is what the model or database
 * was made from, `given` what it is now handed, each with the words before it ("the model was trained
 * on", "--data is"). Either unknown (older files, bare ratings files) passes. `override` names the
 * flag that forces it anyway.
 */
export function requireSameDataset(
  have: DatasetIdentity | undefined,
  given: DatasetIdentity | undefined,
  what: { have: string; given: string; file?: string; override: string },
): void {
  if (!have || !given || sameDataset(have, given)) return;
  throw new CollabError(
    'CATALOGUE_MISMATCH',
    `${what.have} ${describeDataset(have)} but ${what.given} ${describeDataset(given)}: the same movie ids name other films there; use matching data, or pass ${what.override} if they really are the same catalogue`,
    what.file !== undefined ? { file: what.file } : {},
  );
}

function describeDataset(d: DatasetIdentity): string {
  return `${d.name} (${d.items} movies, catalogue ${d.catalogueSha256.slice(0, 12)})`;
}

/** Whether a title is the stand-in ("Movie 10", "movie 10") given to a movie whose source has no title. */
export function isPlaceholderTitle(title: string): boolean {
  return /^movie \S+$/i.test(title);
}

/** A movie as a catalogue lists it: its raw id and title. */
export interface CatalogueEntry {
  movieId: RawId;
  title: string;
}

/** How two catalogues agree: the movies they share (placeholder titles aside), how many of those have other titles, and the first such. */
export interface CatalogueOverlap {
  shared: number;
  differ: number;
  example: [given: CatalogueEntry, haveTitle: string] | undefined;
}

/** Compares the titles `given` holds with those of `have` for the same ids (placeholder titles "Movie <id>" on either side do not count). */
export function catalogueOverlap(have: readonly CatalogueEntry[], given: readonly CatalogueEntry[]): CatalogueOverlap {
  const titles = new Map<string, string>();
  for (const m of have) if (!isPlaceholderTitle(m.title)) titles.set(String(m.movieId), m.title);
  let shared = 0;
  let differ = 0;
  let example: [CatalogueEntry, string] | undefined;
  for (const m of given) {
    const other = titles.get(String(m.movieId));
    if (other === undefined || isPlaceholderTitle(m.title)) continue;
    shared++;
    if (other !== m.title) {
      differ++;
      example ??= [m, other];
    }
  }
  return { shared, differ, example };
}

/** More than this share of the shared movies under other titles means another dataset (a few retitled films do not). */
const RETITLED_SHARE = 0.05;

/** Whether an overlap's titles agree well enough to be the same dataset (at most 5% of the shared movies retitled). */
export function titlesAgree(overlap: Pick<CatalogueOverlap, 'shared' | 'differ'>): boolean {
  return overlap.differ <= overlap.shared * RETITLED_SHARE;
}

/**
 * Refuses a catalogue whose titles contradict another's for the same ids, for stores and files that
 * recorded no identity: more than 5% of the shared movies (placeholder titles "Movie <id>" aside)
 * under other titles means another dataset. `what` names the two sides ("the database x.sqlite", "the model").
 */
export function requireConsistentTitles(
  have: readonly CatalogueEntry[],
  given: readonly CatalogueEntry[],
  what: { have: string; given: string; override: string },
): void {
  const { shared, differ, example } = catalogueOverlap(have, given);
  if (example === undefined || titlesAgree({ shared, differ })) return;
  const [m, other] = example;
  throw new CollabError(
    'CATALOGUE_MISMATCH',
    `${differ} of the ${shared} movies ${what.have} and ${what.given} share have other titles (movie ${JSON.stringify(m.movieId)} is "${other}" in ${what.have}, "${m.title}" in ${what.given}): they hold different datasets; use matching data, or pass ${what.override} to overwrite the titles`,
  );
}
