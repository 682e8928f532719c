import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { fetchDataset, unzipFile } from './cache.js';

// Every test runs against a private COLLAB_HOME and never sees the real datasets folder.
const home = mkdtempSync(join(tmpdir(), 'collab-cache-test-'));
process.env.COLLAB_HOME = home;
delete process.env.COLLAB_DATA_DIR;
const cache = join(home, 'datasets');

const RATINGS = 'userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.0,964981247\r\n';
const README = 'Usage License\n=============\nresearch use only\n';
const BIG = 'x'.repeat(3_000_000); // spans several 1 MiB read steps

const good = zipSync({
  'ml-latest-small/': new Uint8Array(0),
  'ml-latest-small/ratings.csv': strToU8(RATINGS),
  'ml-latest-small/README.txt': [strToU8(README), { level: 0 }], // a stored (uncompressed) entry
  'ml-latest-small/big.txt': strToU8(BIG),
});
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const GOOD_SHA = sha(good);
const wrongFolder = zipSync({ 'something-else/ratings.csv': strToU8(RATINGS) });
const slip = zipSync({ 'ml-latest-small/ratings.csv': strToU8(RATINGS), '../evil.txt': strToU8('x') });
const tenM = zipSync({ 'ml-10M100K/ratings.dat': strToU8('1::122::5::838985046\n') });

let server: Server;
let base = '';
let requests = 0;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    const send = (body: Uint8Array) => {
      res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': body.length });
      res.end(body);
    };
    switch (req.url) {
      case '/good.zip':
        return send(good);
      case '/wrong-folder.zip':
        return send(wrongFolder);
      case '/slip.zip':
        return send(slip);
      case '/ml-10m.zip':
        return send(tenM);
      case '/cut.zip':
        return send(good.subarray(0, good.length - 200)); // a complete response holding a cut-off zip
      case '/truncated.zip':
        // Promise the whole zip, send half, then drop the connection.
        res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': good.length });
        res.write(good.subarray(0, good.length >> 1), () => res.socket?.destroy());
        return;
      case '/error.zip':
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        return res.end('boom');
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        return res.end('no such file');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
  rmSync(home, { recursive: true, force: true });
});

/** Entries in the cache folder other than finished dataset folders (temp files, half-unpacked folders). */
function leftovers(): string[] {
  return existsSync(cache) ? readdirSync(cache).filter((e) => e.startsWith('.')) : [];
}

function clearCache(): void {
  rmSync(cache, { recursive: true, force: true });
}

test('happy path: downloads, verifies, unpacks into $COLLAB_HOME/datasets; then finds it and does nothing', async () => {
  clearCache();
  const seen: number[] = [];
  const r = await fetchDataset('ml-latest-small', {
    url: `${base}/good.zip`,
    expectedSha256: GOOD_SHA,
    expectedBytes: good.length,
    onProgress: (received, total) => {
      seen.push(received);
      assert.equal(total, good.length);
    },
  });
  const folder = join(cache, 'ml-latest-small');
  assert.equal(r.status, 'fetched');
  assert.equal(r.path, folder);
  assert.equal(r.sha256, GOOD_SHA);
  assert.equal(r.bytes, good.length);
  assert.equal(r.verified, true);
  assert.equal(r.files, 3);
  assert.equal(r.readme, join(folder, 'README.txt'));
  assert.match(r.licence, /research use only/);
  assert.equal(seen.at(-1), good.length);
  assert.equal(readFileSync(join(folder, 'ratings.csv'), 'utf8'), RATINGS);
  assert.equal(readFileSync(join(folder, 'README.txt'), 'utf8'), README);
  assert.equal(readFileSync(join(folder, 'big.txt'), 'utf8'), BIG);
  assert.deepEqual(leftovers(), []);

  const before = requests;
  const again = await fetchDataset('ml-latest-small', { url: `${base}/good.zip`, expectedSha256: GOOD_SHA });
  assert.equal(again.status, 'present');
  assert.equal(again.path, folder);
  assert.equal(requests, before, 'nothing downloaded');
});

test('--force replaces the cached copy; a copy in dataDir is found first', async () => {
  clearCache();
  const opts = { url: `${base}/good.zip`, expectedSha256: GOOD_SHA };
  await fetchDataset('ml-latest-small', opts);
  writeFileSync(join(cache, 'ml-latest-small', 'stale.txt'), 'old');
  const r = await fetchDataset('ml-latest-small', { ...opts, force: true });
  assert.equal(r.status, 'fetched');
  assert.ok(!existsSync(join(cache, 'ml-latest-small', 'stale.txt')), 'the old folder was swapped out');
  assert.deepEqual(leftovers(), []);

  const dataDir = mkdtempSync(join(home, 'data-'));
  mkdirSync(join(dataDir, 'ml-latest-small'));
  writeFileSync(join(dataDir, 'ml-latest-small', 'ratings.csv'), RATINGS);
  const found = await fetchDataset('ml-latest-small', { ...opts, dataDir });
  assert.equal(found.status, 'present');
  assert.equal(found.path, join(dataDir, 'ml-latest-small'));
});

test('a folder without its ratings file does not count as present', async () => {
  clearCache();
  const dataDir = mkdtempSync(join(home, 'data-'));
  mkdirSync(join(dataDir, 'ml-latest-small'));
  const r = await fetchDataset('ml-latest-small', { dataDir, url: `${base}/good.zip`, expectedSha256: GOOD_SHA });
  assert.equal(r.status, 'fetched');
  assert.deepEqual(r.incomplete, [join(dataDir, 'ml-latest-small')]);
});

test('checksum mismatch: CHECKSUM_MISMATCH, nothing left in the cache', async () => {
  clearCache();
  const wrong = '0'.repeat(64);
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/good.zip`, expectedSha256: wrong }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CHECKSUM_MISMATCH');
    assert.equal(
      err.message,
      `the download of ml-latest-small from ${base}/good.zip has sha256 ${GOOD_SHA}, expected ${wrong}: the file is corrupt or not the pinned release; nothing was kept; ` +
        `run the command again, or get it by hand: download https://files.grouplens.org/datasets/movielens/ml-latest-small.zip and unzip it into ${cache} ` +
        `(so that ${join(cache, 'ml-latest-small')} exists), or unzip it anywhere and set COLLAB_DATA_DIR to the folder that holds ml-latest-small`,
    );
    return true;
  });
  assert.deepEqual(readdirSync(cache), []);
});

test('the real pinned sha256 is checked when no override is given', async () => {
  clearCache();
  await assert.rejects(fetchDataset('ml-100k', { url: `${base}/good.zip` }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CHECKSUM_MISMATCH');
    // the pinned size (4924029 bytes) is checked before the hash
    assert.match(err.message, new RegExp(`has ${good.length} bytes but the release has 4924029`));
    return true;
  });
  assert.deepEqual(readdirSync(cache), []);
});

test('truncated download (connection dropped before Content-Length): DOWNLOAD_FAILED, nothing left', async () => {
  clearCache();
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/truncated.zip`, expectedSha256: GOOD_SHA }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DOWNLOAD_FAILED');
    assert.match(err.message, new RegExp(`^the download of ml-latest-small from ${base}/truncated.zip (broke off|stopped) after \\d+ (of ${good.length} )?bytes`));
    assert.match(err.message, /nothing was kept; run the command again/);
    return true;
  });
  assert.deepEqual(readdirSync(cache), []);
});

test('a cut-off zip fetched with --no-verify is caught by the unzip and not kept', async () => {
  clearCache();
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/cut.zip`, verify: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'BAD_FILE');
    assert.match(err.message, /not a readable zip \(no end-of-central-directory record\): the download is corrupt or incomplete; fetch it again$/);
    return true;
  });
  assert.deepEqual(readdirSync(cache), []);
});

test('server errors 500 and 404: DOWNLOAD_FAILED naming the status and URL', async () => {
  clearCache();
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/error.zip`, expectedSha256: GOOD_SHA }), {
    code: 'DOWNLOAD_FAILED',
    message: new RegExp(`^the server answered 500 Internal Server Error for ${base}/error.zip: check the URL \\(--url\\) or try later; get it by hand: download https://`),
  });
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/missing.zip`, expectedSha256: GOOD_SHA }), {
    code: 'DOWNLOAD_FAILED',
    message: new RegExp(`^the server answered 404 Not Found for ${base}/missing.zip`),
  });
  assert.deepEqual(leftovers(), []);
});

test('offline / unreachable: says how to get the files by hand', async () => {
  clearCache();
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(fetchDataset('ml-100k', { url: `http://127.0.0.1:${port}/ml-100k.zip` }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DOWNLOAD_FAILED');
    assert.match(err.message, new RegExp(`^could not download ml-100k from http://127.0.0.1:${port}/ml-100k.zip \\(.*ECONNREFUSED.*\\); you may be offline`));
    assert.ok(
      err.message.endsWith(
        `get it by hand: download https://files.grouplens.org/datasets/movielens/ml-100k.zip and unzip it into ${cache} (so that ${join(cache, 'ml-100k')} exists), ` +
          'or unzip it anywhere and set COLLAB_DATA_DIR to the folder that holds ml-100k',
      ),
      err.message,
    );
    return true;
  });
  assert.deepEqual(leftovers(), []);
});

test('a release with no pinned sha256 is refused unless verify is off', async () => {
  clearCache();
  await assert.rejects(fetchDataset('ml-10m', { url: `${base}/ml-10m.zip` }), {
    code: 'USAGE',
    message: /^collab has no pinned sha256 for ml-10m, so its download cannot be verified: pass --no-verify to fetch it unchecked, or get it by hand/,
  });
  const r = await fetchDataset('ml-10m', { url: `${base}/ml-10m.zip`, verify: false });
  assert.equal(r.status, 'fetched');
  assert.equal(r.verified, false);
  assert.equal(r.path, join(cache, 'ml-10M100K'));
  assert.ok(existsSync(join(cache, 'ml-10M100K', 'ratings.dat')));
});

test('a zip without the release folder, or with an entry escaping the folder, is refused and not kept', async () => {
  clearCache();
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/wrong-folder.zip`, verify: false }), {
    code: 'BAD_FILE',
    message: `${base}/wrong-folder.zip: the zip from ${base}/wrong-folder.zip holds no folder "ml-latest-small/": it is not the ml-latest-small release`,
  });
  await assert.rejects(fetchDataset('ml-latest-small', { url: `${base}/slip.zip`, verify: false }), {
    code: 'BAD_FILE',
    message: /zip entry "\.\.\/evil\.txt" points outside the folder it is unpacked into; refusing to unpack it$/,
  });
  assert.deepEqual(readdirSync(cache), []);
  assert.ok(!existsSync(join(home, 'evil.txt')));
});

test('unknown names list the known ones', async () => {
  await assert.rejects(fetchDataset('ml-5k'), {
    code: 'UNKNOWN_DATASET',
    message: 'unknown dataset "ml-5k": collab can fetch ml-latest-small, ml-latest, ml-100k, ml-1m, ml-10m, ml-20m, ml-25m',
  });
});

test('temp files of a fetch whose process died are cleaned up by the next fetch', async () => {
  clearCache();
  mkdirSync(cache, { recursive: true });
  const dead = 2147483646; // above any pid_max
  writeFileSync(join(cache, `.ml-latest-small.${dead}.zip.part`), 'half');
  mkdirSync(join(cache, `.ml-latest-small.${dead}.unpack-abc123`));
  writeFileSync(join(cache, `.ml-latest-small.${process.pid}.zip.part.keep`), 'not ours to judge'); // no match: kept
  await fetchDataset('ml-latest-small', { url: `${base}/good.zip`, expectedSha256: GOOD_SHA });
  assert.deepEqual(leftovers(), [`.ml-latest-small.${process.pid}.zip.part.keep`]);
});

test('unzipFile checks CRC-32: a flipped byte in a stored entry is caught', () => {
  const dir = mkdtempSync(join(home, 'unzip-'));
  const zip = zipSync({ 'a/b.txt': [strToU8('hello world'), { level: 0 }] });
  const bad = Uint8Array.from(zip);
  const at = Buffer.from(bad).indexOf('hello world');
  bad[at] = 'j'.charCodeAt(0);
  writeFileSync(join(dir, 'bad.zip'), bad);
  writeFileSync(join(dir, 'good.zip'), zip);
  assert.equal(unzipFile(join(dir, 'good.zip'), join(dir, 'out1')), 1);
  assert.equal(readFileSync(join(dir, 'out1', 'a', 'b.txt'), 'utf8'), 'hello world');
  assert.throws(() => unzipFile(join(dir, 'bad.zip'), join(dir, 'out2')), { code: 'BAD_FILE', message: /a\/b\.txt fails its CRC-32 check/ });
});
