import type { FileLayout } from './read-delimited.js';
import type { Dataset } from './ratings.js';

/** Min / median / max (and mean) of a count per user or per item. */
export interface CountSummary {
  min: number;
  median: number;
  max: number;
  mean: number;
}

/** One histogram bar: a single rating value (from === to) or a bin [from, to). */
export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** How much of the rated items / users have each kind of metadata. */
export interface MetadataCoverage {
  /** Rated items with a title. */
  titles: number;
  /** Rated items with at least one genre. */
  genres: number;
  /** Rated items with a release year. */
  years: number;
  /** Rated items with at least one tag. */
  tags: number;
  /** Rated items with an IMDb id. */
  links: number;
  /** Raters with demographics (age, gender, occupation or zip). */
  demographics: number;
}

/** What `collab data info` reports about a dataset (JSON keys as named here). */
export interface DatasetStats {
  name: string;
  source: string;
  ratings: number;
  /** Users with at least one rating. */
  users: number;
  /** Items with at least one rating. */
  items: number;
  /** ratings / (users × items). */
  density: number;
  scale: { min: number; max: number };
  mean: number;
  std: number;
  /** Per value when ratings sit on a half-star grid, else 10 equal bins. */
  histogram: HistogramBin[];
  /** Unix seconds and dates (UTC) of the first and last rating, or null without timestamps. */
  timeRange: { first: number; last: number; firstDate: string; lastDate: string } | null;
  ratingsPerUser: CountSummary;
  ratingsPerItem: CountSummary;
  metadata: MetadataCoverage;
  badRows: number;
  badRowExamples: string[];
  duplicates: number;
  /** How the ratings file was read (delimiter, header, columns), when the dataset came from a file. */
  layout?: FileLayout;
}

/** Summary of counts (zero counts left out, as those ids have no ratings). */
function summarize(counts: Int32Array): { summary: CountSummary; nonZero: number } {
  const kept = counts.filter((c) => c > 0).sort();
  const n = kept.length;
  if (n === 0) return { summary: { min: 0, median: 0, max: 0, mean: 0 }, nonZero: 0 };
  let total = 0;
  for (let k = 0; k < n; k++) total += kept[k]!;
  const median = n % 2 === 1 ? kept[(n - 1) / 2]! : (kept[n / 2 - 1]! + kept[n / 2]!) / 2;
  return { summary: { min: kept[0]!, median, max: kept[n - 1]!, mean: total / n }, nonZero: n };
}

/** UTC date of Unix seconds, as YYYY-MM-DD. */
function isoDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().slice(0, 10);
}

/** Counts, scale, histogram, time range, activity and metadata coverage of a dataset, in O(n). */
export function datasetStats(ds: Dataset & { layout?: FileLayout }): DatasetStats {
  const { users, items, ratings, timestamps, userIds, itemIds } = ds.ratings;
  const n = ratings.length;
  const perUser = new Int32Array(userIds.size);
  const perItem = new Int32Array(itemIds.size);
  let min = Infinity;
  let max = -Infinity;
  // mean and variance accumulate in float64: Σr and Σr² over up to 25M ratings.
  let sum = 0;
  let sumSq = 0;
  let onHalfGrid = true;
  for (let r = 0; r < n; r++) {
    const v = ratings[r]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
    const twice = v * 2;
    if (twice !== Math.floor(twice)) onHalfGrid = false;
    perUser[users[r]!]!++;
    perItem[items[r]!]!++;
  }
  const mean = n > 0 ? sum / n : 0;
  const std = n > 0 ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : 0;

  const histogram: HistogramBin[] = [];
  if (n > 0 && onHalfGrid && (max - min) * 2 <= 400) {
    const lo2 = min * 2;
    const bins = new Float64Array((max - min) * 2 + 1);
    for (let r = 0; r < n; r++) bins[ratings[r]! * 2 - lo2]!++;
    for (let k = 0; k < bins.length; k++) if (bins[k]! > 0) histogram.push({ from: (lo2 + k) / 2, to: (lo2 + k) / 2, count: bins[k]! });
  } else if (n > 0) {
    const nb = 10;
    const width = (max - min) / nb || 1;
    const bins = new Float64Array(nb);
    for (let r = 0; r < n; r++) bins[Math.min(nb - 1, Math.floor((ratings[r]! - min) / width))]!++;
    for (let k = 0; k < nb; k++) histogram.push({ from: min + k * width, to: k === nb - 1 ? max : min + (k + 1) * width, count: bins[k]! });
  }

  let timeRange: DatasetStats['timeRange'] = null;
  if (timestamps && n > 0) {
    let first = Infinity;
    let last = -Infinity;
    for (let r = 0; r < n; r++) {
      const t = timestamps[r]!;
      if (t < first) first = t;
      if (t > last) last = t;
    }
    timeRange = { first, last, firstDate: isoDate(first), lastDate: isoDate(last) };
  }

  const u = summarize(perUser);
  const i = summarize(perItem);
  const metadata: MetadataCoverage = { titles: 0, genres: 0, years: 0, tags: 0, links: 0, demographics: 0 };
  if (ds.items.size > 0) {
    for (let k = 0; k < perItem.length; k++) {
      if (perItem[k] === 0) continue;
      const meta = ds.items.get(itemIds.idOf(k));
      if (!meta) continue;
      if (meta.title) metadata.titles++;
      if (meta.genres.length > 0) metadata.genres++;
      if (meta.year !== undefined) metadata.years++;
      if (meta.tags && meta.tags.length > 0) metadata.tags++;
      if (meta.imdbId) metadata.links++;
    }
  }
  if (ds.users.size > 0) {
    for (let k = 0; k < perUser.length; k++) {
      if (perUser[k] === 0) continue;
      const meta = ds.users.get(userIds.idOf(k));
      if (meta && (meta.age !== undefined || meta.gender || meta.occupation || meta.zip)) metadata.demographics++;
    }
  }
  const stats: DatasetStats = {
    name: ds.name,
    source: ds.source,
    ratings: n,
    users: u.nonZero,
    items: i.nonZero,
    density: u.nonZero > 0 && i.nonZero > 0 ? n / (u.nonZero * i.nonZero) : 0,
    scale: { min: n > 0 ? min : 0, max: n > 0 ? max : 0 },
    mean,
    std,
    histogram,
    timeRange,
    ratingsPerUser: u.summary,
    ratingsPerItem: i.summary,
    metadata,
    badRows: ds.report.badRows,
    badRowExamples: ds.report.badRowExamples,
    duplicates: ds.report.duplicates,
  };
  if (ds.layout) stats.layout = ds.layout;
  return stats;
}

/** One line on how a file was read: `"," with header (userId, movieId, rating, timestamp)`. */
function describeLayout(l: FileLayout): string {
  const sep = l.delimiter === '\t' ? 'tab' : l.delimiter === 'whitespace' ? 'spaces' : `"${l.delimiter}"`;
  const name = (k: number): string => (l.header ? l.columns[k]! : `column ${k}`);
  const cols = [`user ${name(l.userColumn)}`, `item ${name(l.itemColumn)}`, `rating ${name(l.ratingColumn)}`];
  if (l.timestampColumn >= 0) cols.push(`time ${name(l.timestampColumn)}`);
  return `${sep}-separated, ${l.header ? 'header' : 'no header'}; ${cols.join(', ')}`;
}

const fmt = (x: number): string => x.toLocaleString('en-US');
const num = (x: number, digits = 3): string => String(Number(x.toFixed(digits)));

/** `stats` as a small two-column table for people, with a bar per histogram row. */
export function formatStats(s: DatasetStats): string[] {
  const rows: [string, string][] = [
    ['dataset', `${s.name}  (${s.source})`],
    ...(s.layout ? [['format', describeLayout(s.layout)] as [string, string]] : []),
    ['ratings', fmt(s.ratings)],
    ['users', fmt(s.users)],
    ['items', fmt(s.items)],
    ['density', `${(s.density * 100).toFixed(3)}%`],
    ['scale', `${num(s.scale.min)} to ${num(s.scale.max)}   mean ${s.mean.toFixed(3)}   std ${s.std.toFixed(3)}`],
    ['time range', s.timeRange ? `${s.timeRange.firstDate} to ${s.timeRange.lastDate}` : 'no timestamps'],
    ['per user', `min ${fmt(s.ratingsPerUser.min)}   median ${fmt(s.ratingsPerUser.median)}   max ${fmt(s.ratingsPerUser.max)}`],
    ['per item', `min ${fmt(s.ratingsPerItem.min)}   median ${fmt(s.ratingsPerItem.median)}   max ${fmt(s.ratingsPerItem.max)}`],
  ];
  const m = s.metadata;
  const cover = (label: string, k: number, of: number): string => `${label} ${k === 0 ? '-' : k === of ? 'all' : `${fmt(k)}/${fmt(of)}`}`;
  rows.push(['metadata', [cover('titles', m.titles, s.items), cover('genres', m.genres, s.items), cover('years', m.years, s.items)].join('   ')]);
  rows.push(['', [cover('tags', m.tags, s.items), cover('links', m.links, s.items), cover('demographics', m.demographics, s.users)].join('   ')]);
  rows.push(['bad rows', `${fmt(s.badRows)}   duplicates ${fmt(s.duplicates)}`]);
  const lines = rows.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  const top = Math.max(1, ...s.histogram.map((b) => b.count));
  lines.push('histogram');
  for (const b of s.histogram) {
    const label = b.from === b.to ? num(b.from, 1) : `${num(b.from, 2)}-${num(b.to, 2)}`;
    const bar = '#'.repeat(Math.round((b.count / top) * 40));
    lines.push(`  ${label.padStart(11)} ${fmt(b.count).padStart(12)}  ${bar}`);
  }
  for (const e of s.badRowExamples) lines.push(`  bad: ${e}`);
  return lines;
}
