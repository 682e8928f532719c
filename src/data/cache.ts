import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import * as zlib from 'node:zlib';
import { Inflate } from 'fflate';
import { CollabError } from '../core/errors.js';
import { processAlive } from '../core/atomic.js';
import { datasetCacheDir, datasetSearchDirs, KNOWN_DATASETS, type KnownDataset, type MovieLensFormat } from './locate.js';

/** Options of `fetchDataset`. */
export interface FetchOptions {
  /** Folder searched first for an unpacked copy (as --data-dir); default none. */
  dataDir?: string;
  /** Download and unpack again into the cache even when a copy exists; default false. */
  force?: boolean;
  /** Download from this URL instead of GroupLens (mirrors, tests); default the dataset's own URL. */
  url?: string;
  /** Check the download's sha256 and size; default true. false (--no-verify) unpacks an unchecked zip. */
  verify?: boolean;
  /** sha256 (hex) to check instead of the pinned one (a mirror's re-packed zip, tests); default the pinned value. */
  expectedSha256?: string;
  /** Zip size to check instead of the pinned one, 0 for "unknown"; default the pinned size (0 when expectedSha256 is given). */
  expectedBytes?: number;
  /** Folder to unpack into; default `datasetCacheDir()` ($COLLAB_HOME/datasets or the platform cache). */
  cacheDir?: string;
  /** Called as bytes arrive (total undefined when the server sends no length); default none. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/** What `fetchDataset` did. */
export interface FetchResult {
  name: string;
  /** 'present': a copy was found and nothing was downloaded; 'fetched': downloaded and unpacked. */
  status: 'present' | 'fetched';
  /** The unpacked dataset folder. */
  path: string;
  /** One line on the licence terms. */
  licence: string;
  /** The release's README (full licence terms), when it has one. */
  readme?: string;
  /** Where the zip came from (fetched only). */
  url?: string;
  /** Zip size in bytes (fetched only). */
  bytes?: number;
  /** sha256 of the zip as downloaded (fetched only). */
  sha256?: string;
  /** Whether the sha256 was checked against a known value (fetched only). */
  verified?: boolean;
  /** Files unpacked (fetched only). */
  files?: number;
  /** Folders skipped because they lack the ratings file (an incomplete copy). */
  incomplete?: string[];
}

/** The citation GroupLens asks for, shown with the licence. */
export const MOVIELENS_CITATION =
  'F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4: 19:1-19:19. https://doi.org/10.1145/2827872';

const RATINGS_FILE: Record<MovieLensFormat, string> = { csv: 'ratings.csv', 'ml-100k': 'u.data', dat: 'ratings.dat' };

/** The known dataset of a name, or UNKNOWN_DATASET listing the names. */
export function knownDataset(name: string): KnownDataset {
  const known = KNOWN_DATASETS[name];
  if (!known) {
    throw new CollabError('UNKNOWN_DATASET', `unknown dataset "${name}": collab can fetch ${Object.keys(KNOWN_DATASETS).join(', ')}`, {
      field: 'name',
    });
  }
  return known;
}

/**
 * Makes a known dataset available: when --data-dir, $COLLAB_DATA_DIR or the cache already holds it
 * (with its ratings file), says where and downloads nothing (unless `force`). Otherwise downloads the
 * GroupLens zip to a temp file in the cache folder while hashing it, checks size and pinned sha256,
 * unpacks it into a temp folder there and renames the release folder into place, so the final name
 * never holds a half-unpacked folder and a corrupt or cut-off zip never stays behind.
 */
export async function fetchDataset(name: string, options: FetchOptions = {}): Promise<FetchResult> {
  const known = knownDataset(name);
  const cacheDir = options.cacheDir ?? datasetCacheDir();
  const incomplete: string[] = [];
  if (!options.force) {
    const dirs = options.cacheDir ? [...datasetSearchDirs(options.dataDir), cacheDir] : datasetSearchDirs(options.dataDir);
    for (const dir of dirs) {
      const folder = join(dir, known.folder);
      if (!existsSync(folder) || !statSync(folder).isDirectory()) continue;
      if (!existsSync(join(folder, RATINGS_FILE[known.format]))) {
        incomplete.push(folder);
        continue;
      }
      return { name, status: 'present', path: folder, licence: known.licence, ...readmeOf(folder), ...(incomplete.length ? { incomplete } : {}) };
    }
  }
  const verify = options.verify !== false;
  const expectedSha = (options.expectedSha256 ?? known.sha256).toLowerCase();
  // An overriding sha256 names a different zip, so the pinned size no longer applies to it.
  const expectedBytes = options.expectedBytes ?? (options.expectedSha256 ? 0 : known.bytes);
  const url = options.url ?? known.url;
  if (verify && !expectedSha) {
    throw new CollabError(
      'USAGE',
      `collab has no pinned sha256 for ${name}, so its download cannot be verified: pass --no-verify to fetch it unchecked, or ${manualHint(known, cacheDir)}`,
      { field: 'verify' },
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  removeLeftovers(cacheDir, name);
  const zipPath = join(cacheDir, `.${name}.${process.pid}.zip.part`);
  let unpackDir: string | undefined;
  try {
    const got = await download(url, zipPath, known, cacheDir, options.onProgress);
    if (verify && expectedBytes > 0 && got.bytes !== expectedBytes) {
      throw new CollabError(
        'CHECKSUM_MISMATCH',
        `the download of ${name} from ${url} has ${got.bytes} bytes but the release has ${expectedBytes}: it is incomplete or a different file; run the command again, or ${manualHint(known, cacheDir)}`,
      );
    }
    if (verify && got.sha256 !== expectedSha) {
      throw new CollabError(
        'CHECKSUM_MISMATCH',
        `the download of ${name} from ${url} has sha256 ${got.sha256}, expected ${expectedSha}: the file is corrupt or not the pinned release; nothing was kept; run the command again, or ${manualHint(known, cacheDir)}`,
      );
    }
    unpackDir = mkdtempSync(join(cacheDir, `.${name}.${process.pid}.unpack-`));
    const files = unzipFile(zipPath, unpackDir);
    const unpacked = join(unpackDir, known.folder);
    if (!existsSync(unpacked) || !statSync(unpacked).isDirectory()) {
      throw new CollabError('BAD_FILE', `the zip from ${url} holds no folder "${known.folder}/": it is not the ${name} release`, { file: url });
    }
    const final = join(cacheDir, known.folder);
    placeFolder(unpacked, final, unpackDir);
    return {
      name,
      status: 'fetched',
      path: final,
      licence: known.licence,
      ...readmeOf(final),
      url,
      bytes: got.bytes,
      sha256: got.sha256,
      verified: verify,
      files,
      ...(incomplete.length ? { incomplete } : {}),
    };
  } finally {
    rmSync(zipPath, { force: true });
    if (unpackDir) rmSync(unpackDir, { recursive: true, force: true });
  }
}

/** How to get a dataset without `collab data fetch` (one line, for error messages). */
export function manualHint(known: KnownDataset, cacheDir = datasetCacheDir()): string {
  return (
    `get it by hand: download ${known.url} and unzip it into ${cacheDir} (so that ${join(cacheDir, known.folder)} exists), ` +
    `or unzip it anywhere and set COLLAB_DATA_DIR to the folder that holds ${known.folder}`
  );
}

function readmeOf(folder: string): { readme?: string } {
  for (const f of ['README.txt', 'README', 'README.html']) if (existsSync(join(folder, f))) return { readme: join(folder, f) };
  return {};
}

/** Moves the unpacked release to its final name; an older copy (--force) is swapped out, restored on failure. */
function placeFolder(unpacked: string, final: string, scratch: string): void {
  if (!existsSync(final)) {
    renameSync(unpacked, final);
    return;
  }
  const previous = join(scratch, '.previous');
  renameSync(final, previous);
  try {
    renameSync(unpacked, final);
  } catch (err) {
    renameSync(previous, final);
    throw err;
  }
}

/** Removes temp files and folders of earlier fetches of `name` whose process is gone (killed mid-download). */
function removeLeftovers(cacheDir: string, name: string): void {
  const prefix = `.${name}.`;
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(\d+)\.(zip\.part|unpack-.*)$/.exec(entry.slice(prefix.length));
    if (!m) continue;
    if (processAlive(Number(m[1]))) continue;
    rmSync(join(cacheDir, entry), { recursive: true, force: true });
  }
}

/** Streams `url` into `dest`, hashing as it goes; fails on HTTP errors, dropped connections and short bodies. */
async function download(
  url: string,
  dest: string,
  known: KnownDataset,
  cacheDir: string,
  onProgress?: (received: number, total: number | undefined) => void,
): Promise<{ bytes: number; sha256: string }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new CollabError(
      'DOWNLOAD_FAILED',
      `could not download ${known.name} from ${url} (${causeOf(err)}); you may be offline or the server unreachable; ${manualHint(known, cacheDir)}`,
      {},
      { cause: err },
    );
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new CollabError(
      'DOWNLOAD_FAILED',
      `the server answered ${res.status} ${res.statusText} for ${url}: check the URL (--url) or try later; ${manualHint(known, cacheDir)}`,
    );
  }
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  const hash = createHash('sha256');
  const fd = openSync(dest, 'w');
  let received = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      received += chunk.length;
      onProgress?.(received, total);
    }
  } catch (err) {
    throw new CollabError(
      'DOWNLOAD_FAILED',
      `the download of ${known.name} from ${url} broke off after ${received}${total ? ` of ${total}` : ''} bytes (${causeOf(err)}); nothing was kept; run the command again`,
      {},
      { cause: err },
    );
  } finally {
    closeSync(fd);
  }
  if (total !== undefined && received !== total) {
    throw new CollabError(
      'DOWNLOAD_FAILED',
      `the download of ${known.name} from ${url} stopped after ${received} of ${total} bytes; nothing was kept; run the command again`,
    );
  }
  return { bytes: received, sha256: hash.digest('hex') };
}

function causeOf(err: unknown): string {
  let e = err as { message?: string; code?: string; cause?: unknown } | undefined;
  const parts: string[] = [];
  for (let depth = 0; e && depth < 4; depth++) {
    const text = e.code && !(e.message ?? '').includes(e.code) ? `${e.message ?? ''} ${e.code}`.trim() : (e.message ?? String(e));
    if (text && !parts.includes(text)) parts.push(text);
    e = e.cause as typeof e;
  }
  return parts.join(': ') || 'unknown error';
}

// ---- zip reading: central directory + fflate's streaming inflate, bounded memory ------------------

const CHUNK = 1 << 20;

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/**
 * Unpacks a zip file into `destDir` and returns the number of files. Reads the central directory
 * (so a cut-off zip is caught before anything is written), then inflates each entry in 1 MiB steps
 * with fflate, checking its size and CRC-32. Entry names that would escape `destDir` are refused.
 */
export function unzipFile(zipPath: string, destDir: string): number {
  const fd = openSync(zipPath, 'r');
  try {
    const entries = readCentralDirectory(fd, zipPath);
    let files = 0;
    for (const e of entries) {
      const target = safeTarget(destDir, e.name, zipPath);
      if (e.name.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      extractEntry(fd, e, target, zipPath);
      files++;
    }
    return files;
  } finally {
    closeSync(fd);
  }
}

function corrupt(zipPath: string, what: string): CollabError {
  return new CollabError('BAD_FILE', `not a readable zip (${what}): the download is corrupt or incomplete; fetch it again`, { file: zipPath });
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  let off = 0;
  while (off < len) {
    const n = readSync(fd, buf, off, len - off, pos + off);
    if (n === 0) break;
    off += n;
  }
  return off === len ? buf : buf.subarray(0, off);
}

function readCentralDirectory(fd: number, zipPath: string): ZipEntry[] {
  const size = fstatSync(fd).size;
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, size - tailLen, tailLen);
  let eocd = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tail.readUInt32LE(p) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw corrupt(zipPath, 'no end-of-central-directory record');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: the locator sits just before the classic record and points at the ZIP64 record.
    const locPos = size - tailLen + eocd - 20;
    const loc = locPos >= 0 ? readAt(fd, locPos, 20) : Buffer.alloc(0);
    if (loc.length < 20 || loc.readUInt32LE(0) !== 0x07064b50) throw corrupt(zipPath, 'missing ZIP64 locator');
    const rec = readAt(fd, Number(loc.readBigUInt64LE(8)), 56);
    if (rec.length < 56 || rec.readUInt32LE(0) !== 0x06064b50) throw corrupt(zipPath, 'bad ZIP64 record');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > size) throw corrupt(zipPath, 'central directory outside the file');
  const cd = readAt(fd, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw corrupt(zipPath, `bad central directory entry ${k + 1}`);
    const flags = cd.readUInt16LE(p + 8);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const e: ZipEntry = {
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
      name: cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen),
    };
    readZip64Extra(cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), e);
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Replaces 0xffffffff sizes/offset with the ZIP64 extra field's values (in the order the spec lists them). */
function readZip64Extra(extra: Buffer, e: ZipEntry): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = (): number => {
        const v = Number(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      if (e.size === 0xffffffff) e.size = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.localOffset === 0xffffffff) e.localOffset = next();
      return;
    }
    q += 4 + len;
  }
}

function safeTarget(destDir: string, name: string, zipPath: string): string {
  const clean = name.replace(/\\/g, '/');
  if (clean.startsWith('/') || /^[a-zA-Z]:/.test(clean) || clean.split('/').includes('..')) {
    throw new CollabError('BAD_FILE', `zip entry "${name}" points outside the folder it is unpacked into; refusing to unpack it`, { file: zipPath });
  }
  const target = normalize(join(destDir, clean));
  if (target !== destDir && !target.startsWith(destDir + sep)) {
    throw new CollabError('BAD_FILE', `zip entry "${name}" points outside the folder it is unpacked into; refusing to unpack it`, { file: zipPath });
  }
  return target;
}

const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

function extractEntry(fd: number, e: ZipEntry, target: string, zipPath: string): void {
  const local = readAt(fd, e.localOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw corrupt(zipPath, `bad local header of ${e.name}`);
  const dataStart = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (e.method !== 0 && e.method !== 8) {
    throw new CollabError('BAD_FILE', `zip entry ${e.name} uses compression method ${e.method}; only stored and deflate are supported`, {
      file: zipPath,
    });
  }
  const out = openSync(target, 'w');
  let written = 0;
  let crc = 0;
  const write = (data: Uint8Array): void => {
    let off = 0;
    while (off < data.length) off += writeSync(out, data, off, data.length - off);
    written += data.length;
    if (crc32) crc = crc32(data, crc);
  };
  try {
    const inflate = e.method === 8 ? new Inflate((data) => write(data)) : undefined;
    let pos = dataStart;
    const end = dataStart + e.compressedSize;
    if (e.compressedSize === 0 && inflate) inflate.push(new Uint8Array(0), true);
    while (pos < end) {
      const chunk = readAt(fd, pos, Math.min(CHUNK, end - pos));
      if (chunk.length === 0) throw corrupt(zipPath, `${e.name} is cut off`);
      pos += chunk.length;
      try {
        if (inflate) inflate.push(chunk, pos >= end);
        else write(chunk);
      } catch (err) {
        if (err instanceof CollabError) throw err;
        throw corrupt(zipPath, `${e.name}: ${(err as Error).message}`);
      }
    }
  } finally {
    closeSync(out);
  }
  if (written !== e.size) throw corrupt(zipPath, `${e.name} inflates to ${written} bytes, the directory says ${e.size}`);
  if (crc32 && crc >>> 0 !== e.crc) throw corrupt(zipPath, `${e.name} fails its CRC-32 check`);
}
