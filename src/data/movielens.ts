import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { parseRawId, type RawId } from './id-map.js';
import { KNOWN_DATASETS, type MovieLensFormat } from './locate.js';
import { parseDelimitedText, readRatingsFile, readTextFile, type Delimiter, type ReadOptions, type ReadResult, type TextRow } from './read-delimited.js';
import type { ItemMeta, LoadReport, UserMeta } from './ratings.js';

/** Which files make up each MovieLens layout. */
export interface MovieLensLayout {
  /** The ratings file. */
  ratings: string;
  /** Files that identify the layout when present (ratings first). */
  markers: string[];
  /** How the ratings file is laid out. */
  read: Pick<ReadOptions, 'delimiter' | 'header'>;
}

/** The three layouts GroupLens has shipped: CSV (ml-latest, 20m, 25m), ml-100k's u.* files, and `::` .dat files (1m, 10m). */
export const MOVIELENS_LAYOUTS: Record<MovieLensFormat, MovieLensLayout> = {
  csv: { ratings: 'ratings.csv', markers: ['ratings.csv', 'movies.csv'], read: { delimiter: ',', header: true } },
  'ml-100k': { ratings: 'u.data', markers: ['u.data', 'u.item', 'u.user'], read: { delimiter: '\t', header: false } },
  dat: { ratings: 'ratings.dat', markers: ['ratings.dat', 'movies.dat', 'users.dat'], read: { delimiter: '::', header: false } },
};

/** ml-100k's genre order (used when u.genre is missing). */
const ML100K_GENRES = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
];

/** ml-1m users.dat age codes → the range they stand for (README "Age is chosen from the following ranges"). */
export const ML1M_AGE_RANGES: Record<number, string> = {
  1: 'Under 18', 18: '18-24', 25: '25-34', 35: '35-44', 45: '45-49', 50: '50-55', 56: '56+',
};

/** ml-1m users.dat occupation codes → labels (README). */
export const ML1M_OCCUPATIONS = [
  'other', 'academic/educator', 'artist', 'clerical/admin', 'college/grad student', 'customer service',
  'doctor/health care', 'executive/managerial', 'farmer', 'homemaker', 'K-12 student', 'lawyer', 'programmer',
  'retired', 'sales/marketing', 'scientist', 'self-employed', 'technician/engineer', 'tradesman/craftsman',
  'unemployed', 'writer',
];

/** UserMeta plus ml-1m's age bracket, whose `age` is the bracket's code (1 = under 18, 18 = 18-24, ...). */
export interface MovieLensUserMeta extends UserMeta {
  ageRange?: string;
}

/** Item and user metadata read from a MovieLens folder. */
export interface MovieLensMetadata {
  items: Map<RawId, ItemMeta>;
  users: Map<RawId, UserMeta>;
}

/** Options for reading a MovieLens folder: ratings-file options plus whether to read metadata. */
export interface MovieLensOptions extends ReadOptions {
  /** Read titles, genres, years, tags, links and demographics; default true. */
  metadata?: boolean;
}

/** The MovieLens layout of a folder, from the files in it, or undefined when it holds none. */
export function detectMovieLensFormat(dir: string): MovieLensFormat | undefined {
  for (const format of ['csv', 'ml-100k', 'dat'] as const) {
    if (MOVIELENS_LAYOUTS[format].markers.some((f) => existsSync(join(dir, f)))) return format;
  }
  return undefined;
}

/** Release year from a title ending in "(1995)" or "(2006-2007)"; undefined when there is none. */
export function yearFromTitle(title: string): number | undefined {
  const m = /\((\d{4})(?:\s*[-–]\s*\d{4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : undefined;
}

/** Name a folder goes by: the known dataset whose folder it is, else its base name. */
function datasetName(dir: string): string {
  const base = basename(dir);
  for (const known of Object.values(KNOWN_DATASETS)) if (known.folder === base) return known.name;
  return base;
}

/** Reads ratings and metadata of an unpacked MovieLens folder (layout detected from its files). */
export function readMovieLensFolder(dir: string, options: MovieLensOptions = {}): ReadResult {
  const format = detectMovieLensFormat(dir);
  if (!format) {
    throw new CollabError(
      'BAD_FILE',
      'holds no MovieLens files (ratings.csv, u.data or ratings.dat); give the path of a ratings file instead',
      { file: dir },
    );
  }
  const layout = MOVIELENS_LAYOUTS[format];
  const name = options.name ?? datasetName(dir);
  const ratingsPath = join(dir, layout.ratings);
  if (!existsSync(ratingsPath)) {
    const present = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
    const fix = KNOWN_DATASETS[name]
      ? `copy ${layout.ratings} from the ${name} release into it, or run \`collab data fetch ${name}\` and use that copy (--data-dir / COLLAB_DATA_DIR)`
      : `add ${layout.ratings} to the folder, or give the path of a ratings file instead`;
    throw new CollabError(
      'NOT_FOUND',
      `${name} is incomplete: ${layout.ratings} is missing (the folder holds only ${present.join(', ') || 'nothing'}), so there are no ratings to load; ${fix}`,
      { file: ratingsPath },
    );
  }
  const dataset = readRatingsFile(ratingsPath, { ...layout.read, ...definedOnly(options), name });
  if (options.metadata !== false) {
    const meta = readMovieLensMetadata(dir, format, dataset.report, options.skipBadRows === true);
    dataset.items = meta.items;
    dataset.users = meta.users;
  }
  dataset.source = dir;
  return dataset;
}

/** Options without keys whose value is undefined, so they do not override presets. */
function definedOnly<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Reads whatever metadata a MovieLens folder has: titles, genres and years (movies.csv, u.item,
 * movies.dat), tags (tags.csv, tags.dat), IMDb/TMDb ids (links.csv) and demographics (u.user,
 * users.dat). A malformed line throws BAD_ROW, or under skipBadRows is counted in `report`.
 */
export function readMovieLensMetadata(dir: string, format: MovieLensFormat, report: LoadReport, skipBadRows = false): MovieLensMetadata {
  const items = new Map<RawId, ItemMeta>();
  const users = new Map<RawId, UserMeta>();
  const ctx: MetaContext = { report, skipBadRows };
  const at = (f: string): string | undefined => (existsSync(join(dir, f)) ? join(dir, f) : undefined);
  if (format === 'csv') {
    const movies = at('movies.csv');
    if (movies) readMoviesCsv(movies, items, ctx);
    const tags = at('tags.csv');
    if (tags) readTags(tags, ',', true, items, ctx);
    const links = at('links.csv');
    if (links) readLinksCsv(links, items, ctx);
  } else if (format === 'ml-100k') {
    const item = at('u.item');
    if (item) readMl100kItems(item, at('u.genre'), items, ctx);
    const user = at('u.user');
    if (user) readMl100kUsers(user, users, ctx);
  } else {
    const movies = at('movies.dat');
    if (movies) readMoviesDat(movies, items, ctx);
    const tags = at('tags.dat');
    if (tags) readTags(tags, '::', false, items, ctx);
    const user = at('users.dat');
    if (user) readUsersDat(user, users, ctx);
  }
  return { items, users };
}

interface MetaContext {
  report: LoadReport;
  skipBadRows: boolean;
}

/** Rows of a metadata file, each checked for at least `minFields` fields (header dropped when asked). */
function metaRows(path: string, delimiter: Delimiter, header: boolean, minFields: number, ctx: MetaContext): TextRow[] {
  const rows = parseDelimitedText(readTextFile(path, 'auto'), delimiter);
  const body = header ? rows.slice(1) : rows;
  return body.filter((row) => {
    if (row.fields.length >= minFields) return true;
    metaBad(path, row.line, `expected ${minFields} fields separated by ${JSON.stringify(delimiter)}, found ${row.fields.length}`, ctx);
    return false;
  });
}

/** A malformed metadata line: BAD_ROW, or counted under skipBadRows. */
function metaBad(path: string, line: number, problem: string, ctx: MetaContext): void {
  if (!ctx.skipBadRows) {
    throw new CollabError('BAD_ROW', `${problem}; fix the line or use --skip-bad-rows to skip such rows`, { file: path, line });
  }
  ctx.report.badRows++;
  if (ctx.report.badRowExamples.length < 5) ctx.report.badRowExamples.push(`${path}:${line}: ${problem}`);
}

/** A movie id field as a raw id, or undefined (reported) when empty. */
function idField(path: string, row: TextRow, k: number, ctx: MetaContext): RawId | undefined {
  const text = row.fields[k]!.trim();
  if (text === '') {
    metaBad(path, row.line, 'empty movie id', ctx);
    return undefined;
  }
  return parseRawId(text);
}

/** `A|B` genres; "(no genres listed)" is none. */
function splitGenres(text: string): string[] {
  const t = text.trim();
  if (t === '' || t === '(no genres listed)') return [];
  return t.split('|');
}

/** movies.csv: `movieId,title,genres`, titles with commas quoted. */
function readMoviesCsv(path: string, items: Map<RawId, ItemMeta>, ctx: MetaContext): void {
  for (const row of metaRows(path, ',', true, 3, ctx)) {
    const id = idField(path, row, 0, ctx);
    if (id === undefined) continue;
    const title = row.fields.slice(1, row.fields.length - 1).join(',').trim();
    const meta: ItemMeta = { title, genres: splitGenres(row.fields[row.fields.length - 1]!) };
    const year = yearFromTitle(title);
    if (year !== undefined) meta.year = year;
    items.set(id, meta);
  }
}

/** movies.dat: `MovieID::Title::Genres` (Latin-1 in ml-1m). */
function readMoviesDat(path: string, items: Map<RawId, ItemMeta>, ctx: MetaContext): void {
  for (const row of metaRows(path, '::', false, 3, ctx)) {
    const id = idField(path, row, 0, ctx);
    if (id === undefined) continue;
    const title = row.fields.slice(1, row.fields.length - 1).join('::').trim();
    const meta: ItemMeta = { title, genres: splitGenres(row.fields[row.fields.length - 1]!) };
    const year = yearFromTitle(title);
    if (year !== undefined) meta.year = year;
    items.set(id, meta);
  }
}

/** tags.csv / tags.dat: `userId,movieId,tag,timestamp`; tags are lower-cased and kept once per movie. */
function readTags(path: string, delimiter: Delimiter, header: boolean, items: Map<RawId, ItemMeta>, ctx: MetaContext): void {
  const seen = new Map<RawId, Set<string>>();
  for (const row of metaRows(path, delimiter, header, 4, ctx)) {
    const id = idField(path, row, 1, ctx);
    if (id === undefined) continue;
    const meta = items.get(id);
    if (!meta) continue;
    const tag = row.fields.slice(2, row.fields.length - 1).join(delimiter === '::' ? '::' : ',').trim().toLowerCase();
    if (tag === '') continue;
    let set = seen.get(id);
    if (!set) {
      set = new Set(meta.tags ?? []);
      seen.set(id, set);
    }
    set.add(tag);
  }
  for (const [id, set] of seen) items.get(id)!.tags = [...set];
}

/** links.csv: `movieId,imdbId,tmdbId` (tmdbId sometimes empty). */
function readLinksCsv(path: string, items: Map<RawId, ItemMeta>, ctx: MetaContext): void {
  for (const row of metaRows(path, ',', true, 3, ctx)) {
    const id = idField(path, row, 0, ctx);
    if (id === undefined) continue;
    const meta = items.get(id);
    if (!meta) continue;
    const imdb = row.fields[1]!.trim();
    const tmdb = row.fields[2]!.trim();
    if (imdb !== '') meta.imdbId = imdb;
    if (tmdb !== '') meta.tmdbId = tmdb;
  }
}

/**
 * u.item: `id|title|release date|video date|IMDb URL|` then one 0/1 flag per genre of u.genre.
 * The "unknown" genre counts as none; the year comes from the title, else the release date.
 */
function readMl100kItems(path: string, genrePath: string | undefined, items: Map<RawId, ItemMeta>, ctx: MetaContext): void {
  let genres = ML100K_GENRES;
  if (genrePath) {
    const named = parseDelimitedText(readTextFile(genrePath, 'auto'), '|')
      .filter((r) => r.fields.length >= 2)
      .map((r) => ({ name: r.fields[0]!, index: Number(r.fields[1]) }));
    genres = [];
    for (const g of named) genres[g.index] = g.name;
  }
  for (const row of metaRows(path, '|', false, 5 + genres.length, ctx)) {
    const id = idField(path, row, 0, ctx);
    if (id === undefined) continue;
    const f = row.fields;
    const title = f[1]!.trim();
    const list: string[] = [];
    for (let g = 0; g < genres.length; g++) {
      const name = genres[g];
      if (f[5 + g] === '1' && name !== undefined && name !== 'unknown') list.push(name);
    }
    const meta: ItemMeta = { title, genres: list };
    const year = yearFromTitle(title) ?? yearFromDate(f[2]!);
    if (year !== undefined) meta.year = year;
    items.set(id, meta);
  }
}

/** Year of a date like "01-Jan-1995". */
function yearFromDate(text: string): number | undefined {
  const m = /(\d{4})\s*$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** u.user: `id|age|gender|occupation|zip`. */
function readMl100kUsers(path: string, users: Map<RawId, UserMeta>, ctx: MetaContext): void {
  for (const row of metaRows(path, '|', false, 5, ctx)) {
    const [id, age, gender, occupation, zip] = row.fields.map((s) => s.trim()) as [string, string, string, string, string];
    if (id === '') {
      metaBad(path, row.line, 'empty user id', ctx);
      continue;
    }
    const meta: UserMeta = { gender, occupation, zip };
    if (age !== '' && Number.isFinite(Number(age))) meta.age = Number(age);
    users.set(parseRawId(id), meta);
  }
}

/** users.dat: `UserID::Gender::Age::Occupation::Zip-code`, age and occupation as ml-1m codes decoded to labels. */
function readUsersDat(path: string, users: Map<RawId, UserMeta>, ctx: MetaContext): void {
  for (const row of metaRows(path, '::', false, 5, ctx)) {
    const [id, gender, age, occupation, zip] = row.fields.map((s) => s.trim()) as [string, string, string, string, string];
    if (id === '') {
      metaBad(path, row.line, 'empty user id', ctx);
      continue;
    }
    const meta: MovieLensUserMeta = { gender, zip };
    const ageCode = Number(age);
    if (age !== '' && Number.isFinite(ageCode)) {
      meta.age = ageCode;
      const range = ML1M_AGE_RANGES[ageCode];
      if (range) meta.ageRange = range;
    }
    const occ = Number(occupation);
    meta.occupation = Number.isInteger(occ) && ML1M_OCCUPATIONS[occ] !== undefined ? ML1M_OCCUPATIONS[occ] : occupation;
    users.set(parseRawId(id), meta);
  }
}
