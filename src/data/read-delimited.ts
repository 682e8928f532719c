import { isUtf8 } from 'node:buffer';
import { closeSync, existsSync, fstatSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CollabError } from '../core/errors.js';
import { openForReading } from '../core/fs-errors.js';
import { IdMap, parseRawId } from './id-map.js';
import type { Dataset, LoadReport, Ratings } from './ratings.js';

/**
 * Largest rating read when no scale is declared: far above any star scale or play count, far below
 * float32's overflow (1e39 would be read as Infinity and poison every mean and loss).
 */
export const MAX_RATING = 1e6;

/** A field separator: one of the usual single characters, MovieLens' `::`, or runs of spaces/tabs. */
export type Delimiter = ',' | '\t' | '::' | ';' | '|' | 'whitespace';

/** Text encodings a ratings or metadata file may use. */
export type TextEncoding = 'utf8' | 'latin1';

/** What to do with a second rating of the same (user, item) pair. */
export type DuplicatePolicy = 'keep-last' | 'keep-first' | 'error';

/** A column named by 0-based index or by its header name. */
export type ColumnRef = number | string;

/** How to read a delimited ratings file. Every field is optional: the layout is detected. */
export interface ReadOptions {
  /** Field separator; default: detected from the first line (`::`, tab, `,`, `;`, `|`, then whitespace). */
  delimiter?: Delimiter;
  /** Whether the first line is a header; default: detected (a header's rating field is not a number). */
  header?: boolean;
  /** User id column (0-based index or header name); default: a header named userId/user_id/user/uid, else 0. */
  userColumn?: ColumnRef;
  /** Item id column; default: a header named movieId/itemId/item/movie/iid, else 1. */
  itemColumn?: ColumnRef;
  /** Rating column; default: a header named rating/score/stars, else 2. */
  ratingColumn?: ColumnRef;
  /** Timestamp column, or null for none; default: a header named timestamp/time/ts/date, else 3 when a headerless file has ≥ 4 fields. */
  timestampColumn?: ColumnRef | null;
  /** Encoding of text ids; default 'utf8' (invalid UTF-8 is an error, pointing at 'latin1'). */
  encoding?: TextEncoding;
  /** Declared rating scale [lo, hi]; a rating outside it is a bad row. Default: [0, MAX_RATING] (1e6). */
  scale?: [number, number];
  /** Count and skip bad rows instead of throwing; default false. */
  skipBadRows?: boolean;
  /** Policy for repeated (user, item) pairs; default 'keep-last'. */
  duplicates?: DuplicatePolicy;
  /** Start from these user ids (e.g. a training split's), adding new ones; default: a new map. */
  userIds?: IdMap;
  /** Start from these item ids, adding new ones; default: a new map. */
  itemIds?: IdMap;
  /** Dataset name; default: the file's base name. */
  name?: string;
  /** Read buffer size in bytes; default 4 MiB (tests use tiny ones to cross chunk edges). */
  bufferBytes?: number;
}

/** The layout a reader settled on for a file, from options and detection. */
export interface FileLayout {
  delimiter: Delimiter;
  header: boolean;
  /** Header names, or `column0`, `column1`, ... when there is no header. */
  columns: string[];
  userColumn: number;
  itemColumn: number;
  ratingColumn: number;
  /** -1 when the file has no timestamps. */
  timestampColumn: number;
}

/** Result of reading one ratings file: the Dataset plus the layout that was used. */
export interface ReadResult extends Dataset {
  layout: FileLayout;
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const COLON = 58;
const DOT = 46;

// Byte classes of the line scanner: anything PLAIN is skipped with one table lookup.
const PLAIN = 0;
const DELIM = 1;
const NEWLINE = 2;
const QUOTE_C = 3;
const NUL = 4;
const HIGH = 5;
const COLON_C = 6;
const CR_C = 7;

const F_QUOTE = 1;
const F_NUL = 2;
const F_HIGH = 4;

const MAX_FIELDS = 256;
const MAX_EXAMPLES = 5;
const DEFAULT_BUFFER = 4 << 20;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

const USER_NAMES = ['userid', 'user', 'uid', 'users', 'reviewerid', 'customerid'];
const ITEM_NAMES = ['movieid', 'itemid', 'item', 'movie', 'iid', 'items', 'productid', 'bookid', 'asin'];
const RATING_NAMES = ['rating', 'ratings', 'score', 'stars', 'value'];
const TIME_NAMES = ['timestamp', 'time', 'ts', 'date', 'datetime', 'unixtime'];

const SKIP_HINT = 'fix the row or use --skip-bad-rows to skip such rows';

/** Byte-class table for one delimiter. */
function classTable(delimiter: Delimiter): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0x80; b < 256; b++) t[b] = HIGH;
  t[0] = NUL;
  t[LF] = NEWLINE;
  t[CR] = CR_C;
  t[QUOTE] = QUOTE_C;
  if (delimiter === 'whitespace') {
    t[SPACE] = DELIM;
    t[TAB] = DELIM;
  } else if (delimiter === '::') {
    t[COLON] = COLON_C;
  } else {
    t[delimiter.charCodeAt(0)] = DELIM;
  }
  return t;
}

/** Removes one pair of surrounding double quotes and un-doubles inner ones (RFC 4180). */
function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.charCodeAt(0) === QUOTE && t.charCodeAt(t.length - 1) === QUOTE) {
    return t.slice(1, -1).replace(/""/g, '"');
  }
  return t;
}

/**
 * Guesses the separator from one line: `::`, then tab, `,`, `;`, `|`, then runs of whitespace, taking
 * the first that splits the line into at least three fields (user, item, rating).
 */
export function detectDelimiter(line: string): Delimiter | undefined {
  const candidates = (['::', '\t', ',', ';', '|'] as const).filter((d) => line.includes(d));
  for (const d of candidates) if (splitLine(line, d).length >= 3) return d;
  if (splitLine(line, 'whitespace').length >= 3) return 'whitespace';
  return candidates[0] ?? (/\S\s+\S/.test(line) ? 'whitespace' : undefined);
}

/** Splits one line (no newline) into fields, honouring double quotes for single-character delimiters. */
export function splitLine(line: string, delimiter: Delimiter): string[] {
  if (delimiter === 'whitespace') {
    const t = line.trim();
    return t === '' ? [''] : t.split(/[ \t]+/);
  }
  if (delimiter === '::') return line.split('::');
  const out: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let k = 0; k < line.length; k++) {
    const ch = line[k]!;
    if (inQuotes) {
      if (ch === '"') {
        if (line[k + 1] === '"') {
          field += '"';
          k++;
        } else inQuotes = false;
      } else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      inQuotes = true;
      field = '';
    } else if (ch === delimiter) {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

/** Lower-cased letters and digits of a column name, so `user_id`, `UserID` and `userId` compare equal. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** One delimited line of a small (metadata) file, with its 1-based line number. */
export interface TextRow {
  line: number;
  fields: string[];
}

/**
 * Reads a small text file whole: strips a UTF-8 BOM, decodes as `encoding`, or for 'auto' as UTF-8
 * when the bytes are valid UTF-8 and Latin-1 otherwise (MovieLens 100k/1m titles are Latin-1).
 */
export function readTextFile(path: string, encoding: TextEncoding | 'auto' = 'auto'): string {
  let bytes = readFileOrThrow(path);
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  checkNotUtf16(bytes, path);
  const enc = encoding === 'auto' ? (isUtf8(bytes) ? 'utf8' : 'latin1') : encoding;
  if (enc === 'utf8' && !isUtf8(bytes)) {
    throw new CollabError(
      'BAD_FILE',
      'is not valid UTF-8 text; it may be Latin-1: convert it to UTF-8 or read it with encoding latin1 (--encoding latin1)',
      { file: path },
    );
  }
  return bytes.toString(enc);
}

/**
 * Parses a small delimited text into rows (RFC 4180 quotes, including quoted newlines, for `,` `;`
 * and tab; plain splitting for `|` and `::`, whose MovieLens files never quote). Blank lines are
 * skipped; lines without a quote take a plain split (most of movies.csv and tags.csv).
 */
export function parseDelimitedText(text: string, delimiter: Delimiter): TextRow[] {
  const rows: TextRow[] = [];
  const quoted = delimiter === ',' || delimiter === ';' || delimiter === '\t';
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const first = k + 1;
    let line = stripCR(lines[k]!);
    if (line.trim() === '') continue;
    if (!quoted || !line.includes('"')) {
      rows.push({ line: first, fields: delimiter === 'whitespace' || delimiter === '::' ? splitLine(line, delimiter) : line.split(delimiter) });
      continue;
    }
    // An odd number of quotes means a quoted field runs on into the next line.
    while (countQuotes(line) % 2 === 1 && k + 1 < lines.length) line += '\n' + stripCR(lines[++k]!);
    rows.push({ line: first, fields: splitLine(line, delimiter) });
  }
  return rows;
}

function stripCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function countQuotes(text: string): number {
  let n = 0;
  for (let k = text.indexOf('"'); k >= 0; k = text.indexOf('"', k + 1)) n++;
  return n;
}

/** Reads a whole (small) file, turning a missing path into a NOT_FOUND that says what to check. */
function readFileOrThrow(path: string): Buffer {
  if (!existsSync(path)) {
    throw new CollabError('NOT_FOUND', 'no such file; check the path (or the dataset name and --data-dir)', { file: path });
  }
  const fd = openForReading(path);
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_TEXT_FILE_BYTES) {
      throw new CollabError('BAD_FILE', `is ${size} bytes; metadata files of up to ${MAX_TEXT_FILE_BYTES} bytes are read (is this the right file?)`, { file: path });
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Longest line a ratings file may have: a ratings row is tens of bytes, so a longer line means the file is not one. */
export const MAX_LINE_BYTES = 1 << 20;
// Metadata files (movies, tags, users) are read whole; ml-25m's tags.csv, the largest, is 38 MB.
const MAX_TEXT_FILE_BYTES = 512 * 1024 * 1024;

function lineTooLong(path: string, line: number): CollabError {
  return new CollabError('BAD_FILE', `is longer than ${MAX_LINE_BYTES} bytes without a line break; this is not a ratings file (or its line breaks were lost)`, { file: path, line });
}


/** Throws BAD_FILE when bytes start with a UTF-16 byte-order mark. */
function checkNotUtf16(bytes: Uint8Array, path: string): void {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new CollabError(
      'BAD_FILE',
      'starts with a UTF-16 byte-order mark; collab reads UTF-8 or Latin-1 text: re-save the file as UTF-8',
      { file: path, line: 1 },
    );
  }
}

/** Picks a column by option or header name, falling back to `fallback` (or -1). */
function resolveColumn(
  path: string,
  what: string,
  ref: ColumnRef | undefined,
  columns: string[],
  header: boolean,
  names: string[],
  fallback: number,
): number {
  const flag = `--${what === 'timestamp' ? 'time' : what}-col`;
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= columns.length) {
      throw new CollabError(
        'INVALID_OPTION',
        `${what} column ${ref} is out of range: the file has ${columns.length} columns (0 to ${columns.length - 1}); fix ${flag}`,
        { file: path, field: flag },
      );
    }
    return ref;
  }
  if (typeof ref === 'string') {
    if (!header) {
      throw new CollabError(
        'INVALID_OPTION',
        `${what} column "${ref}" is named, but the file has no header line; give ${flag} as a 0-based index`,
        { file: path, field: flag },
      );
    }
    let k = columns.indexOf(ref);
    if (k < 0) k = columns.map(normalizeName).indexOf(normalizeName(ref));
    if (k < 0) {
      throw new CollabError(
        'INVALID_OPTION',
        `${what} column "${ref}" is not in the header (columns: ${columns.join(', ')}); fix ${flag}`,
        { file: path, field: flag },
      );
    }
    return k;
  }
  if (header) {
    const normalized = columns.map(normalizeName);
    for (const name of names) {
      const k = normalized.indexOf(name);
      if (k >= 0) return k;
    }
  }
  return fallback < columns.length ? fallback : -1;
}

/**
 * The streaming columnar reader behind readRatingsFile: scans bytes of a reused buffer, parses ids
 * and numbers straight from bytes, and appends to typed-array columns.
 */
class RatingsReader {
  private readonly path: string;
  private readonly skipBad: boolean;
  private readonly scaleLo: number;
  private readonly scaleHi: number;
  private readonly hasScale: boolean;
  private readonly latin1: boolean;
  readonly userIds: IdMap;
  readonly itemIds: IdMap;
  readonly report: LoadReport = { badRows: 0, badRowExamples: [], duplicates: 0 };

  layout!: FileLayout;
  private cls: Uint8Array = new Uint8Array(256);
  private whitespace = false;
  private nFields = 0;
  private uc = 0;
  private ic = 0;
  private rc = 0;
  private tc = -1;
  private readonly fs = new Int32Array(MAX_FIELDS);
  private readonly fe = new Int32Array(MAX_FIELDS);
  /** Value of each field when it is a plain decimal (≤ 15 digits), else NaN. */
  private readonly fVal = new Float64Array(MAX_FIELDS);
  /** Value of each field when it is ≤ 9 plain digits (an id on the fast path), else -1. */
  private readonly fInt = new Int32Array(MAX_FIELDS);

  /** Lines read so far (the 1-based number of the line being parsed, once counted). */
  line = 0;
  n = 0;
  private cap = 0;
  users = new Int32Array(0);
  items = new Int32Array(0);
  ratings = new Float32Array(0);
  timestamps: Float64Array | undefined;

  // Line of row r = r + 1 + extra, where extra is that of the last break at or before r (header,
  // blank and skipped lines are rare, so this costs nothing per row).
  private readonly breakRows: number[] = [];
  private readonly breakExtra: number[] = [];
  private extra = 0;

  constructor(path: string, options: ReadOptions) {
    this.path = path;
    this.skipBad = options.skipBadRows === true;
    this.latin1 = options.encoding === 'latin1';
    this.userIds = options.userIds ?? new IdMap();
    this.itemIds = options.itemIds ?? new IdMap();
    if (options.scale) {
      const [lo, hi] = options.scale;
      if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
        throw new CollabError('INVALID_OPTION', `scale must be two finite numbers lo <= hi, got [${lo}, ${hi}]; e.g. --scale 0.5,5`, { field: 'scale' });
      }
      this.hasScale = true;
      this.scaleLo = lo;
      this.scaleHi = hi;
    } else {
      this.hasScale = false;
      this.scaleLo = 0;
      this.scaleHi = MAX_RATING;
    }
  }

  /** Settles delimiter, header and columns from the first non-blank line `text` (line number `line`). */
  setup(text: string, options: ReadOptions): void {
    const path = this.path;
    const delimiter = options.delimiter ?? detectDelimiter(text);
    if (delimiter === undefined) {
      throw new CollabError(
        'BAD_FILE',
        `cannot tell the field separator of "${text.slice(0, 60)}": a ratings file needs user, item and rating columns separated by , tab :: ; | or spaces (or pass --delimiter)`,
        { file: path, line: this.line },
      );
    }
    const fields = splitLine(text, delimiter);
    if (fields.length < 3) {
      throw new CollabError(
        'BAD_FILE',
        `has ${fields.length} field${fields.length === 1 ? '' : 's'} separated by ${JSON.stringify(delimiter)}; a ratings file needs at least user, item and rating columns (pass --delimiter if it was guessed wrong)`,
        { file: path, line: this.line },
      );
    }
    if (fields.length > MAX_FIELDS) {
      throw new CollabError('BAD_FILE', `has ${fields.length} columns; collab reads ratings files of up to ${MAX_FIELDS} columns: cut the others first`, { file: path, line: this.line });
    }
    let header = options.header;
    const namedColumn = [options.userColumn, options.itemColumn, options.ratingColumn, options.timestampColumn].some((c) => typeof c === 'string');
    if (header === undefined) {
      if (namedColumn) header = true;
      else {
        const rk = typeof options.ratingColumn === 'number' ? options.ratingColumn : 2;
        // A header names its rating column; a bad first row (empty, NaN) is data, reported as bad.
        const ratingText = unquote(fields[rk] ?? '');
        header = ratingText !== '' && !Number.isFinite(Number(ratingText)) && !/^[+-]?(nan|inf|infinity)$/i.test(ratingText);
      }
    }
    const columns = header ? fields.map(unquote) : fields.map((_, k) => `column${k}`);
    const uc = resolveColumn(path, 'user', options.userColumn, columns, header, USER_NAMES, 0);
    const ic = resolveColumn(path, 'item', options.itemColumn, columns, header, ITEM_NAMES, 1);
    const rc = resolveColumn(path, 'rating', options.ratingColumn, columns, header, RATING_NAMES, 2);
    const tc =
      options.timestampColumn === null
        ? -1
        : resolveColumn(path, 'timestamp', options.timestampColumn, columns, header, TIME_NAMES, header && options.timestampColumn === undefined ? -1 : 3);
    if (uc === ic || uc === rc || ic === rc || (tc >= 0 && (tc === uc || tc === ic || tc === rc))) {
      throw new CollabError(
        'INVALID_OPTION',
        `user, item, rating and timestamp must be different columns, got ${uc}, ${ic}, ${rc}, ${tc}; set --user-col/--item-col/--rating-col/--time-col`,
        { file: path },
      );
    }
    this.layout = { delimiter, header, columns, userColumn: uc, itemColumn: ic, ratingColumn: rc, timestampColumn: tc };
    this.cls = classTable(delimiter);
    this.whitespace = delimiter === 'whitespace';
    this.nFields = fields.length;
    this.uc = uc;
    this.ic = ic;
    this.rc = rc;
    this.tc = tc;
  }

  /** Allocates columns for about `rows` ratings (grown ×1.5 if the estimate was short). */
  allocate(rows: number): void {
    this.cap = Math.max(16, Math.ceil(rows));
    this.users = new Int32Array(this.cap);
    this.items = new Int32Array(this.cap);
    this.ratings = new Float32Array(this.cap);
    if (this.tc >= 0) this.timestamps = new Float64Array(this.cap);
  }

  private grow(): void {
    const cap = Math.ceil(this.cap * 1.5) + 16;
    const users = new Int32Array(cap);
    users.set(this.users);
    this.users = users;
    const items = new Int32Array(cap);
    items.set(this.items);
    this.items = items;
    const ratings = new Float32Array(cap);
    ratings.set(this.ratings);
    this.ratings = ratings;
    if (this.timestamps) {
      const ts = new Float64Array(cap);
      ts.set(this.timestamps);
      this.timestamps = ts;
    }
    this.cap = cap;
  }

  /** Records that the current line gave no row (header, blank or skipped). */
  noteSkippedLine(): void {
    this.extra++;
    const k = this.breakRows.length - 1;
    if (k >= 0 && this.breakRows[k] === this.n) this.breakExtra[k] = this.extra;
    else {
      this.breakRows.push(this.n);
      this.breakExtra.push(this.extra);
    }
  }

  /** 1-based line number of row r (before any duplicate is dropped). */
  lineOf(r: number): number {
    let lo = 0;
    let hi = this.breakRows.length - 1;
    let extra = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.breakRows[mid]! <= r) {
        extra = this.breakExtra[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return r + 1 + extra;
  }

  /** A bad row: throws BAD_ROW, or under skipBadRows counts it and keeps a few examples. */
  private bad(problem: string): void {
    if (!this.skipBad) {
      throw new CollabError('BAD_ROW', `${problem}; ${SKIP_HINT}`, { file: this.path, line: this.line });
    }
    this.report.badRows++;
    if (this.report.badRowExamples.length < MAX_EXAMPLES) this.report.badRowExamples.push(`${this.path}:${this.line}: ${problem}`);
    this.noteSkippedLine();
  }

  /** Text of field k of the current line, trimmed and unquoted (the slow path). */
  private fieldText(buf: Buffer, k: number): string {
    return unquote(buf.toString(this.latin1 ? 'latin1' : 'utf8', this.fs[k]!, this.fe[k]!));
  }

  /**
   * Records field nf of the current line as bytes [start, end) with its number: a plain decimal of at
   * most 15 digits is mant / 10^(nd − dotAt) (and an int when it has no '.' and at most 9 digits),
   * anything else NaN / -1 for the slow path. Fields past MAX_FIELDS are counted by the caller only.
   */
  private setField(nf: number, start: number, end: number, plain: boolean, nd: number, dotAt: number, mant: number): void {
    if (nf >= MAX_FIELDS) return;
    this.fs[nf] = start;
    this.fe[nf] = end;
    if (plain && nd > 0 && nd <= 15) {
      this.fVal[nf] = dotAt < 0 ? mant : mant / POW10[nd - dotAt]!;
      this.fInt[nf] = dotAt < 0 && nd <= 9 ? mant : -1;
    } else {
      this.fVal[nf] = NaN;
      this.fInt[nf] = -1;
    }
  }

  /**
   * Parses lines in buf[p, end) and returns where the first unparsed line starts: an incomplete
   * last line waits for more bytes unless `eof`. One pass: each field's digits are folded into
   * mant = mant·10 + d as they go by (dotAt = digits before the '.'), so a plain number is
   * mant / 10^(nd − dotAt) and the bytes are never read twice; anything else (signs, quotes,
   * exponents, words) leaves the field to the slow path in row().
   */
  parseChunk(buf: Buffer, p: number, end: number, eof: boolean): number {
    const cls = this.cls;
    const fs = this.fs;
    const fe = this.fe;
    const fVal = this.fVal;
    const fInt = this.fInt;
    const ws = this.whitespace;
    const nFields = this.nFields;
    const uc = this.uc;
    const ic = this.ic;
    const rc = this.rc;
    const tc = this.tc;
    const lo = this.scaleLo;
    const hi = this.scaleHi;
    const userIds = this.userIds;
    const itemIds = this.itemIds;
    while (p < end) {
      const lineStart = p;
      let nf = 0;
      let flags = 0;
      let complete = false;
      let wait = false;
      let lineEnd = end;
      if (ws) while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
      let f0 = p;
      let mant = 0;
      let nd = 0;
      let dotAt = -1;
      let plain = true;
      while (p < end) {
        const b = buf[p]!;
        const d = b - 48;
        if (d >= 0 && d <= 9) {
          mant = mant * 10 + d;
          nd++;
          p++;
          continue;
        }
        if (b === DOT && dotAt < 0) {
          dotAt = nd;
          p++;
          continue;
        }
        const c = cls[b]!;
        if (c === DELIM || c === COLON_C) {
          if (c === COLON_C) {
            if (p + 1 >= end) {
              if (!eof) {
                wait = true;
                break;
              }
              plain = false;
              p++;
              continue;
            }
            if (buf[p + 1] !== COLON) {
              plain = false;
              p++;
              continue;
            }
          }
          this.setField(nf, f0, p, plain, nd, dotAt, mant);
          nf++;
          p += c === COLON_C ? 2 : 1;
          if (ws) while (p < end && cls[buf[p]!] === DELIM) p++;
          f0 = p;
          mant = 0;
          nd = 0;
          dotAt = -1;
          plain = true;
        } else if (c === NEWLINE) {
          lineEnd = p;
          complete = true;
          break;
        } else if (c === CR_C) {
          if (p + 1 < end) {
            if (buf[p + 1] === LF) {
              lineEnd = p;
              p++;
              complete = true;
              break;
            }
            plain = false;
            p++;
          } else if (eof) {
            lineEnd = p;
            p++;
            break;
          } else {
            wait = true;
            break;
          }
        } else if (c === QUOTE_C) {
          flags |= F_QUOTE;
          plain = false;
          if (p !== f0) {
            p++;
            continue;
          }
          // A quoted field may hold the delimiter: skip to its closing quote ("" is an escaped quote).
          let q = p + 1;
          let closed = false;
          while (q < end) {
            const bq = buf[q]!;
            if (bq === QUOTE) {
              if (q + 1 < end && buf[q + 1] === QUOTE) {
                q += 2;
                continue;
              }
              if (q + 1 >= end && !eof) break; // cannot tell "" from a closing quote yet
              closed = true;
              q++;
              break;
            }
            if (bq === LF) break; // unterminated: the line ends anyway and the field is reported bad
            if (bq === 0) flags |= F_NUL;
            else if (bq >= 0x80) flags |= F_HIGH;
            q++;
          }
          if (!closed && q >= end - 1 && !eof && (q >= end || buf[q] === QUOTE)) {
            wait = true;
            break;
          }
          p = q;
        } else {
          if (c === NUL) flags |= F_NUL;
          else if (c === HIGH) flags |= F_HIGH;
          plain = false;
          p++;
        }
      }
      if (wait || (!complete && !eof)) return lineStart;
      if (!complete && p < lineEnd) lineEnd = p;
      if (f0 > lineEnd) f0 = lineEnd;
      this.setField(nf, f0, lineEnd, plain, nd, dotAt, mant);
      nf++;
      if (complete) p++;
      this.line++;
      if (lineEnd - lineStart > MAX_LINE_BYTES) throw lineTooLong(this.path, this.line);
      if (ws && nf > 0 && fs[nf - 1] === fe[nf - 1]) nf--;
      if (nf === 0 || (nf === 1 && isBlank(buf, fs[0]!, fe[0]!))) {
        this.noteSkippedLine();
        continue;
      }
      // The common row (plain ids and numbers, in scale, room left) is appended right here; any
      // other goes to row(), which explains the problem or takes the slow path.
      const rating = fVal[rc]!;
      const user = fInt[uc]!;
      const item = fInt[ic]!;
      const n = this.n;
      if (flags === 0 && nf === nFields && user >= 0 && item >= 0 && rating >= lo && rating <= hi && n < this.cap) {
        if (tc >= 0) {
          const time = fVal[tc]!;
          if (time !== time) {
            this.row(buf, nf, flags, lineStart, lineEnd);
            continue;
          }
          this.timestamps![n] = time;
        }
        this.users[n] = userIds.addInt(user);
        this.items[n] = itemIds.addInt(item);
        this.ratings[n] = rating;
        this.n = n + 1;
      } else this.row(buf, nf, flags, lineStart, lineEnd);
    }
    return p;
  }

  /** Appends the row of one scanned line, explaining any field the fast path could not take (or reporting the row as bad). */
  private row(buf: Buffer, nf: number, flags: number, lineStart: number, lineEnd: number): void {
    if (flags !== 0) {
      if (flags & F_NUL) {
        throw new CollabError(
          'BAD_FILE',
          'holds a NUL byte: the file looks binary or UTF-16, not a text ratings file; re-save it as UTF-8 text',
          { file: this.path, line: this.line },
        );
      }
      if (flags & F_HIGH && !this.latin1 && !isUtf8(buf.subarray(lineStart, lineEnd))) {
        throw new CollabError(
          'BAD_FILE',
          'is not valid UTF-8; the file may be Latin-1: convert it to UTF-8 or pass --encoding latin1',
          { file: this.path, line: this.line },
        );
      }
    }
    if (nf !== this.nFields) {
      this.bad(`expected ${this.nFields} fields separated by ${JSON.stringify(this.layout.delimiter)}, found ${nf}`);
      return;
    }
    let rating = this.fVal[this.rc]!;
    if (rating !== rating) {
      const t = this.fieldText(buf, this.rc);
      rating = t === '' ? NaN : Number(t);
      if (!Number.isFinite(rating)) {
        this.bad(t === '' ? 'empty rating' : `rating ${JSON.stringify(t)} is not a finite number`);
        return;
      }
    }
    if (this.hasScale && (rating < this.scaleLo || rating > this.scaleHi || !Number.isFinite(Math.fround(rating)))) {
      this.bad(`rating ${rating} is outside the declared scale ${this.scaleLo} to ${this.scaleHi}`);
      return;
    }
    if (!this.hasScale && !(rating >= 0 && rating <= MAX_RATING)) {
      const t = this.fieldText(buf, this.rc);
      this.bad(`rating ${t} is ${rating < 0 ? 'negative' : 'too large'}: ratings are read from 0 to ${MAX_RATING} (declare another range with --scale lo,hi)`);
      return;
    }
    let time = 0;
    if (this.tc >= 0) {
      time = this.fVal[this.tc]!;
      if (time !== time) {
        const t = this.fieldText(buf, this.tc);
        time = t === '' ? NaN : Number(t);
        if (!Number.isFinite(time) && /^\d{4}-\d\d-\d\d/.test(t)) time = Date.parse(t) / 1000;
        if (!Number.isFinite(time)) {
          this.bad(t === '' ? 'empty timestamp' : `timestamp ${JSON.stringify(t)} is not a number of seconds or an ISO date (pass --time-col none if column ${this.tc} is not a time)`);
          return;
        }
      }
    }
    const userFast = this.fInt[this.uc]!;
    let userText = '';
    if (userFast < 0) {
      userText = this.fieldText(buf, this.uc);
      if (userText === '') {
        this.bad('empty user id');
        return;
      }
    }
    const itemFast = this.fInt[this.ic]!;
    let itemText = '';
    if (itemFast < 0) {
      itemText = this.fieldText(buf, this.ic);
      if (itemText === '') {
        this.bad('empty item id');
        return;
      }
    }
    const n = this.n;
    if (n === this.cap) this.grow();
    this.users[n] = userFast >= 0 ? this.userIds.addInt(userFast) : this.userIds.add(parseRawId(userText));
    this.items[n] = itemFast >= 0 ? this.itemIds.addInt(itemFast) : this.itemIds.add(parseRawId(itemText));
    this.ratings[n] = rating;
    if (this.timestamps) this.timestamps[n] = time;
    this.n = n + 1;
  }

  /**
   * Applies the duplicate policy in O(n): rows are visited user by user (directly when the file is
   * grouped by user, else through a counting sort), and a per-item stamp finds repeats. Kept rows
   * stay in file order.
   */
  resolveDuplicates(policy: DuplicatePolicy): void {
    const n = this.n;
    const users = this.users;
    const items = this.items;
    const nItems = this.itemIds.size;
    let grouped = true;
    for (let r = 1; r < n; r++) {
      if (users[r]! < users[r - 1]!) {
        grouped = false;
        break;
      }
    }
    let order: Int32Array | undefined;
    if (!grouped) {
      // Counting sort of row numbers by user; stable, so each user's rows stay in file order.
      const nUsers = this.userIds.size;
      const start = new Int32Array(nUsers + 1);
      for (let r = 0; r < n; r++) {
        const u1 = users[r]! + 1;
        start[u1] = start[u1]! + 1;
      }
      for (let u = 0; u < nUsers; u++) start[u + 1] = start[u + 1]! + start[u]!;
      order = new Int32Array(n);
      for (let r = 0; r < n; r++) {
        const u = users[r]!;
        const at = start[u]!;
        order[at] = r;
        start[u] = at + 1;
      }
    }
    const stampUser = new Int32Array(nItems).fill(-1);
    const lastRow = new Int32Array(nItems);
    let drop: Uint8Array | undefined;
    let dups = 0;
    for (let k = 0; k < n; k++) {
      const r = order ? order[k]! : k;
      const u = users[r]!;
      const i = items[r]!;
      if (stampUser[i] !== u) {
        stampUser[i] = u;
        lastRow[i] = r;
        continue;
      }
      const prev = lastRow[i]!;
      if (policy === 'error') {
        throw new CollabError(
          'BAD_ROW',
          `duplicate rating of item ${JSON.stringify(this.itemIds.idOf(i))} by user ${JSON.stringify(this.userIds.idOf(u))} (first at line ${this.lineOf(prev)}); remove one, or pass --duplicates keep-last or keep-first`,
          { file: this.path, line: this.lineOf(r) },
        );
      }
      drop ??= new Uint8Array(n);
      dups++;
      if (policy === 'keep-first') drop[r] = 1;
      else {
        drop[prev] = 1;
        lastRow[i] = r;
      }
    }
    this.report.duplicates += dups;
    if (drop) {
      const ratings = this.ratings;
      const ts = this.timestamps;
      let w = 0;
      for (let r = 0; r < n; r++) {
        if (drop[r]) continue;
        users[w] = users[r]!;
        items[w] = items[r]!;
        ratings[w] = ratings[r]!;
        if (ts) ts[w] = ts[r]!;
        w++;
      }
      this.n = w;
    }
  }

  /**
   * The final columns, cut to n rows. Pages past row n were never written, so they are not resident
   * (zero pages are mapped lazily): a view costs no memory, while a copy would double the columns at
   * the peak. Only a far-off estimate (over a quarter unused) is compacted by copying.
   */
  columns(): Ratings {
    const n = this.n;
    const view = this.cap - n <= this.cap / 4;
    const cut = <T extends Int32Array | Float32Array | Float64Array>(a: T): T => (view ? a.subarray(0, n) : a.slice(0, n)) as T;
    const out: Ratings = {
      users: cut(this.users),
      items: cut(this.items),
      ratings: cut(this.ratings),
      userIds: this.userIds,
      itemIds: this.itemIds,
    };
    if (this.timestamps) out.timestamps = cut(this.timestamps);
    return out;
  }
}

/**
 * Reads a delimited ratings file into columns (streaming through one reused buffer; never an array
 * of row objects). Layout is detected unless given; bad rows throw BAD_ROW naming file and line, or
 * are counted under `skipBadRows`; duplicates follow `options.duplicates`.
 */
export function readRatingsFile(path: string, options: ReadOptions = {}): ReadResult {
  if (!existsSync(path)) {
    throw new CollabError('NOT_FOUND', 'no such file; check the path (or the dataset name and --data-dir)', { file: path });
  }
  if (statSync(path).isDirectory()) {
    throw new CollabError('BAD_FILE', 'is a folder, not a ratings file; give a file, or load the folder as a dataset', { file: path });
  }
  const reader = new RatingsReader(path, options);
  const fd = openForReading(path);
  try {
    const size = fstatSync(fd).size;
    let buf: Buffer = Buffer.allocUnsafe(Math.max(64, options.bufferBytes ?? DEFAULT_BUFFER));
    let filled = readInto(fd, buf, 0);
    let eof = filled < buf.length;
    if (filled === 0) throw new CollabError('BAD_FILE', 'is empty: it holds no ratings; check the path or the download', { file: path });
    checkNotUtf16(buf.subarray(0, filled), path);
    let p = filled >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;

    // Settle the layout from the first non-blank line (reading on while that line is incomplete).
    let found = false;
    for (;;) {
      let nl = findLF(buf, p, filled);
      while (nl < 0 && !eof) {
        if (filled - p > MAX_LINE_BYTES) throw lineTooLong(path, reader.line + 1);
        if (p > 0) {
          buf.copy(buf, 0, p, filled);
          filled -= p;
          p = 0;
        }
        if (filled === buf.length) buf = grownBuffer(buf, filled);
        filled += readInto(fd, buf, filled);
        eof = filled < buf.length;
        nl = findLF(buf, p, filled);
      }
      let lineEnd = nl < 0 ? filled : nl;
      if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
      reader.line++;
      if (lineEnd - p > MAX_LINE_BYTES) throw lineTooLong(path, reader.line);
      if (!isBlank(buf, p, lineEnd)) {
        const bytes = buf.subarray(p, lineEnd);
        if (bytes.includes(0)) {
          throw new CollabError('BAD_FILE', 'holds a NUL byte: the file looks binary or UTF-16, not a text ratings file; re-save it as UTF-8 text', { file: path, line: reader.line });
        }
        const latin1 = options.encoding === 'latin1';
        if (!latin1 && !isUtf8(bytes)) {
          throw new CollabError('BAD_FILE', 'is not valid UTF-8; the file may be Latin-1: convert it to UTF-8 or pass --encoding latin1', { file: path, line: reader.line });
        }
        reader.setup(bytes.toString(latin1 ? 'latin1' : 'utf8'), options);
        if (reader.layout.header) {
          reader.noteSkippedLine();
          p = nl < 0 ? filled : nl + 1;
        } else reader.line--; // parseChunk counts it again
        found = true;
        break;
      }
      reader.noteSkippedLine();
      if (nl < 0) break;
      p = nl + 1;
    }
    if (!found) throw new CollabError('BAD_FILE', 'is empty: it holds only blank lines, no ratings; check the path or the download', { file: path });

    // Size the columns from bytes per line; short estimates grow ×1.5.
    reader.allocate(estimateRows(fd, size, buf, p, filled));

    for (;;) {
      const consumed = reader.parseChunk(buf, p, filled, eof);
      if (eof) break;
      const left = filled - consumed;
      if (left > 0) buf.copy(buf, 0, consumed, filled);
      if (left > MAX_LINE_BYTES) throw lineTooLong(path, reader.line + 1);
      if (left === buf.length) buf = grownBuffer(buf, left);
      filled = left + readInto(fd, buf, left);
      eof = filled < buf.length;
      p = 0;
    }
  } finally {
    closeSync(fd);
  }
  if (reader.n === 0) {
    const why = reader.report.badRows > 0 ? `all ${reader.report.badRows} rows were bad (first: ${reader.report.badRowExamples[0]})` : 'it has a header but no ratings';
    throw new CollabError('BAD_FILE', `holds no ratings: ${why}; check the file`, { file: path });
  }
  reader.resolveDuplicates(options.duplicates ?? 'keep-last');
  return {
    name: options.name ?? basename(path),
    source: path,
    ratings: reader.columns(),
    items: new Map(),
    users: new Map(),
    report: reader.report,
    layout: reader.layout,
  };
}

/**
 * Rows a file of `size` bytes probably holds. Ids grow through a sorted file and lines with them,
 * so lines per byte is measured at four places (the chunk already read, and 64 KiB samples at 1/3,
 * 2/3 and the end) and integrated by the trapezoid rule, plus 3%. Pages past the final row are
 * never touched, so overshoot costs address space, not memory.
 */
function estimateRows(fd: number, size: number, buf: Buffer, from: number, filled: number): number {
  const density = (b: Buffer, s: number, e: number): number => {
    const first = findLF(b, s, e);
    let last = first;
    let n = 0;
    for (let k = first; k >= 0; k = findLF(b, k + 1, e)) {
      last = k;
      n++;
    }
    return n > 1 ? (n - 1) / (last - first) : 0;
  };
  const head = density(buf, from, filled);
  if (head === 0) return 1024;
  if (size <= filled + 3 * 65536) return (size - from) * head * 1.03 + 16;
  const sample = Buffer.allocUnsafe(65536);
  const at = (offset: number): number => {
    const d = density(sample, 0, readSync(fd, sample, 0, 65536, offset));
    return d > 0 ? d : head;
  };
  const linesPerByte = (head + 2 * at(Math.floor(size / 3)) + 2 * at(Math.floor((2 * size) / 3)) + at(size - 65536)) / 6;
  return size * linesPerByte * 1.03 + 16;
}

/** Index of the first LF in buf[from, to), or -1 (bytes past `to` are stale). */
function findLF(buf: Buffer, from: number, to: number): number {
  if (from >= to) return -1;
  const k = buf.indexOf(LF, from);
  return k >= 0 && k < to ? k : -1;
}

/** A buffer twice as big holding the first `keep` bytes of `buf` (a line longer than the buffer). */
function grownBuffer(buf: Buffer, keep: number): Buffer {
  const bigger = Buffer.allocUnsafe(buf.length * 2);
  buf.copy(bigger, 0, 0, keep);
  return bigger;
}

/** Whether buf[s, e) holds only spaces, tabs and CRs. */
function isBlank(buf: Uint8Array, s: number, e: number): boolean {
  for (let p = s; p < e; p++) {
    const b = buf[p]!;
    if (b !== SPACE && b !== TAB && b !== CR) return false;
  }
  return true;
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
function readInto(fd: number, buf: Buffer, offset: number): number {
  let total = 0;
  while (offset + total < buf.length) {
    const got = readSync(fd, buf, offset + total, buf.length - offset - total, null);
    if (got === 0) break;
    total += got;
  }
  return total;
}
