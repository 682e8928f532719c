import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import {
  fingerprintRatings,
  MODEL_FORMAT_VERSION,
  readModelFile,
  weightsPathFor,
  writeModelFile,
  type ModelManifestInput,
  type WeightTable,
} from './model-file.js';
import { verifyModelFile } from './verify.js';

const root = mkdtempSync(join(tmpdir(), 'collab-model-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(): string {
  const dir = join(root, `d${dirCount++}`);
  mkdirSync(dir);
  return dir;
}

const PKG_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function manifestInput(): ModelManifestInput {
  return {
    kind: 'dotbias',
    config: { nFactors: 2, layers: [100], dropout: 0.1, optimizer: 'adamw' },
    yRange: [0.5, 5.5],
    userIds: [1, 7, 'u-x'],
    itemIds: [1, 260],
    items: { '1': { title: 'Toy Story (1995)', genres: ['Animation', 'Children'], year: 1995 }, '260': { title: 'Star Wars (1977)', genres: ['Sci-Fi'] } },
    history: { epochs: [{ epoch: 0, trainLoss: 0.9, validMse: 0.85, elapsed: 1.5 }], batchLosses: [1.1, 0.95] },
    dataFingerprint: { ratings: 4, users: 3, items: 2, sha256: 'a'.repeat(64) },
    createdAt: '2026-01-02T03:04:05.000Z',
  };
}

/** Tables with awkward values: -0, NaN with a payload, ±Infinity, a subnormal, and an empty table. */
function tables(): WeightTable[] {
  const u = new Float32Array([0.1, -0, 3.4e38, 1e-45, -2.5, 7]);
  const bits = new Uint32Array(1);
  bits[0] = 0x7fc01234; // a NaN with a payload: only a byte copy keeps it
  const i = new Float32Array([Infinity, -Infinity, new Float32Array(bits.buffer)[0]!, 0.25]);
  return [
    { name: 'userEmb', rows: 3, cols: 2, data: u },
    { name: 'itemEmb', rows: 2, cols: 2, data: i },
    { name: 'empty', rows: 0, cols: 5, data: new Float32Array(0) },
  ];
}

function saved(): { dir: string; path: string; weights: string } {
  const dir = freshDir();
  const path = join(dir, 'model.json');
  const manifest = writeModelFile(path, manifestInput(), tables());
  return { dir, path, weights: join(dir, manifest.weights.file) };
}

function editManifest(path: string, edit: (m: Record<string, any>) => void): void {
  const m = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  edit(m);
  writeFileSync(path, JSON.stringify(m));
}

function bytesOf(a: Float32Array): number[] {
  return [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
}

describe('writeModelFile / readModelFile', () => {
  it('round-trips every Float32 bit and the manifest', () => {
    const { dir, path, weights } = saved();
    const weightsName = `model.${createHash('sha256').update(readFileSync(weights)).digest('hex').slice(0, 16)}.weights.bin`;
    assert.deepEqual(readdirSync(dir).sort(), [weightsName, 'model.json'].sort(), 'no temp files left');
    assert.equal(readFileSync(weights).length, (6 + 4) * 4);
    const { manifest, tables: loaded } = readModelFile(path);
    for (const t of tables()) assert.deepEqual(bytesOf(loaded.get(t.name)!), bytesOf(t.data), t.name);
    assert.equal(manifest.format, 'collab-model');
    assert.equal(manifest.version, MODEL_FORMAT_VERSION);
    assert.equal(manifest.collabVersion, PKG_VERSION);
    const { createdAt, ...rest } = manifestInput();
    for (const [k, v] of Object.entries(rest)) assert.deepEqual((manifest as unknown as Record<string, unknown>)[k], v, k);
    assert.equal(manifest.createdAt, createdAt);
    assert.deepEqual(manifest.weights.tables, [
      { name: 'userEmb', rows: 3, cols: 2, offset: 0, length: 24 },
      { name: 'itemEmb', rows: 2, cols: 2, offset: 24, length: 16 },
      { name: 'empty', rows: 0, cols: 5, offset: 40, length: 0 },
    ]);
    assert.equal(manifest.weights.file, weightsName);
    assert.equal(manifest.weights.sha256, createHash('sha256').update(readFileSync(weights)).digest('hex'));
  });

  it('stores the weights as little-endian float32, table after table', () => {
    const { weights } = saved();
    const raw = readFileSync(weights);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    assert.equal(view.getFloat32(0, true), Math.fround(0.1));
    assert.equal(view.getFloat32(16, true), -2.5);
    assert.equal(view.getFloat32(24, true), Infinity);
    assert.equal(view.getUint32(32, true), 0x7fc01234);
  });

  it('keeps ids and item keys readable in the JSON, with id lists on one line', () => {
    const { path } = saved();
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes('"userIds": [1,7,"u-x"]'), text);
    assert.ok(text.includes('"1": {"title":"Toy Story (1995)"'), text);
  });

  it('accepts a manifest with extra keys', () => {
    const { path } = saved();
    editManifest(path, (m) => {
      m.notes = 'tuned by hand';
      m.weights.compression = 'none';
    });
    assert.equal(readModelFile(path).manifest.kind, 'dotbias');
  });

  it('names weights beside the manifest: model.json → model.weights.bin', () => {
    assert.equal(weightsPathFor(join('out', 'model.json')), join('out', 'model.weights.bin'));
    assert.equal(weightsPathFor('m.JSON'), 'm.weights.bin');
    assert.equal(weightsPathFor('model'), 'model.weights.bin');
  });
});

describe('readModelFile errors', () => {
  it('truncated weights', () => {
    const { path, weights } = saved();
    truncateSync(weights, 30);
    assert.throws(() => readModelFile(path), {
      code: 'BAD_MODEL',
      message: `${weights}: weights file is truncated: expected 40 bytes, found 30; re-train or re-copy the model`,
    });
  });

  it('weights longer than the manifest says', () => {
    const { path, weights } = saved();
    writeFileSync(weights, Buffer.concat([readFileSync(weights), Buffer.alloc(4)]));
    assert.throws(() => readModelFile(path), {
      message: `${weights}: weights file is longer than its manifest says: expected 40 bytes, found 44; re-train or re-copy the model`,
    });
  });

  it('one flipped byte', () => {
    const { path, weights } = saved();
    const raw = readFileSync(weights);
    const expected = createHash('sha256').update(raw).digest('hex');
    raw[5]! ^= 0x01;
    writeFileSync(weights, raw);
    const found = createHash('sha256').update(raw).digest('hex');
    assert.throws(() => readModelFile(path), {
      code: 'BAD_MODEL',
      message: `${weights}: weights file was altered or damaged: its sha256 is ${found}, the manifest expects ${expected}; re-train or re-copy the model (manifest and weights together)`,
    });
  });

  it('a newer format version', () => {
    const { path } = saved();
    editManifest(path, (m) => {
      m.version = 3;
    });
    assert.throws(() => readModelFile(path), {
      code: 'BAD_MODEL',
      message: `${path}: model format version 3 is newer than this collab (${PKG_VERSION}) can read (up to version 2); upgrade collab to load it, or re-train the model with this version`,
    });
  });

  it('a missing required key, named by its path', () => {
    const { path } = saved();
    editManifest(path, (m) => {
      delete m.weights.sha256;
    });
    assert.throws(() => readModelFile(path), {
      code: 'BAD_MODEL',
      message: `${path}: manifest has no "weights.sha256"; the file is incomplete or was not written by collab — re-save or re-train the model`,
    });
    editManifest(path, (m) => {
      delete m.itemIds;
    });
    assert.throws(() => readModelFile(path), { message: /manifest has no "itemIds"/ });
  });

  it('a field of the wrong type or an impossible table layout', () => {
    const { path } = saved();
    editManifest(path, (m) => {
      m.userIds[1] = { id: 7 };
    });
    assert.throws(() => readModelFile(path), {
      message: `${path}: manifest field "userIds[1]" must be a number or a string, got an object; the file was edited or damaged — re-save or re-train the model`,
    });
    const second = saved();
    editManifest(second.path, (m) => {
      m.weights.tables[1].rows = 3;
    });
    assert.throws(() => readModelFile(second.path), {
      message: `${second.path}: manifest field "weights.tables[1].length" is 16 bytes but table "itemEmb" is 3×2 float32 = 24 bytes; the file was edited or damaged — re-save or re-train the model`,
    });
  });

  it('bad JSON, naming the file', () => {
    const { path } = saved();
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 50));
    assert.throws(() => readModelFile(path), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_MODEL');
      assert.ok(err.message.startsWith(`${path}: not valid JSON (`), err.message);
      assert.ok(err.message.endsWith('); the model manifest is damaged — re-save or re-copy the model'), err.message);
      return true;
    });
  });

  it('a JSON file that is not a collab model', () => {
    const dir = freshDir();
    const path = join(dir, 'package.json');
    writeFileSync(path, '{"name": "x"}');
    assert.throws(() => readModelFile(path), {
      message: `${path}: manifest has no "format"; the file is incomplete or was not written by collab — re-save or re-train the model`,
    });
    writeFileSync(path, '{"format": "keras"}');
    assert.throws(() => readModelFile(path), {
      message: `${path}: not a collab model file (format is "keras", expected "collab-model"); pass a model saved by collab train --out`,
    });
  });

  it('a missing manifest or weights file', () => {
    const dir = freshDir();
    assert.throws(() => readModelFile(join(dir, 'nope.json')), {
      code: 'NOT_FOUND',
      message: `${join(dir, 'nope.json')}: model file not found; check the path (collab train --out writes it)`,
    });
    const { path, weights } = saved();
    rmSync(weights);
    assert.throws(() => readModelFile(path), {
      message: `${weights}: weights file is missing (the manifest model.json needs it); copy it beside the manifest or re-train the model`,
    });
  });

  it('a weights file name that points outside the manifest folder', () => {
    const { path } = saved();
    editManifest(path, (m) => {
      m.weights.file = '../model.weights.bin';
    });
    assert.throws(() => readModelFile(path), {
      message: `${path}: manifest field "weights.file" must be a plain file name beside the manifest, got "../model.weights.bin"; the file was edited or damaged — re-save or re-train the model`,
    });
  });
});

describe('writeModelFile input checks and atomicity', () => {
  it('refuses bad tables and non-JSON values, naming them', () => {
    const path = join(freshDir(), 'm.json');
    const t = tables();
    assert.throws(() => writeModelFile(path, manifestInput(), [{ ...t[0]!, rows: 4 }]), {
      code: 'INVALID_OPTION',
      message: 'writeModelFile: table "userEmb" is 4×2 = 8 values but its data has 6 values',
    });
    assert.throws(() => writeModelFile(path, manifestInput(), [t[0]!, t[0]!]), {
      message: 'writeModelFile: two weight tables are named "userEmb"; names must be unique',
    });
    const input = manifestInput();
    input.history.epochs[0]!.trainLoss = Number.NaN;
    assert.throws(() => writeModelFile(path, input, t), {
      message: 'writeModelFile: manifest.history.epochs[0].trainLoss is NaN; a model manifest holds plain JSON values only',
    });
    const noKind = manifestInput() as Partial<ModelManifestInput>;
    delete noKind.kind;
    assert.throws(() => writeModelFile(path, noKind as ModelManifestInput, t), {
      code: 'INVALID_OPTION',
      message: 'writeModelFile: the manifest has no "kind"; pass it',
    });
  });

  it('leaves the previous model untouched when the new one is refused', () => {
    const { dir, path, weights } = saved();
    const before = [readFileSync(path), readFileSync(weights)];
    const input = manifestInput();
    input.config.lr = Infinity;
    const t = tables();
    t[0]!.data[0] = 42;
    assert.throws(() => writeModelFile(path, input, t), { message: /manifest\.config\.lr is Infinity/ });
    assert.deepEqual([readFileSync(path), readFileSync(weights)], before);
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', basename(weights)].sort());
  });

  it('fails cleanly in a missing folder, creating nothing', () => {
    const dir = join(root, 'absent');
    const path = join(dir, 'model.json');
    assert.throws(() => writeModelFile(path, manifestInput(), tables()), {
      code: 'NOT_FOUND',
      message: `${path}: cannot save the model: folder ${dir} does not exist; create it first or choose another --out`,
    });
    assert.equal(existsSync(dir), false);
  });

  it('fails cleanly when the manifest cannot be written, leaving no temp files', () => {
    const dir = freshDir();
    const path = join(dir, 'model.json');
    mkdirSync(path); // a folder where the manifest should go: the final rename fails
    assert.throws(() => writeModelFile(path, manifestInput(), tables()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_FILE');
      assert.ok(err.message.startsWith(`${path}: cannot save the model: `), err.message);
      return true;
    });
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  it('fails cleanly in a read-only folder, keeping the previous model', { skip: process.getuid?.() === 0 ? 'root ignores folder permissions' : false }, () => {
    const { dir, path, weights } = saved();
    const before = [readFileSync(path), readFileSync(weights)];
    chmodSync(dir, 0o555);
    try {
      assert.throws(() => writeModelFile(path, manifestInput(), tables()), { code: 'BAD_FILE' });
    } finally {
      chmodSync(dir, 0o755);
    }
    assert.deepEqual([readFileSync(path), readFileSync(weights)], before);
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', basename(weights)].sort());
  });
});

describe('fingerprintRatings', () => {
  const users = new Int32Array([0, 1, 0, 2]);
  const items = new Int32Array([1, 1, 0, 3]);
  const ratings = new Float32Array([4, 3.5, 5, 1]);

  it('hashes the count and the little-endian column bytes, and counts distinct users and items', () => {
    // The same bytes built by hand with DataView, independent of the host's byte order.
    const buf = new DataView(new ArrayBuffer(48));
    for (let r = 0; r < 4; r++) {
      buf.setInt32(r * 4, users[r]!, true);
      buf.setInt32(16 + r * 4, items[r]!, true);
      buf.setFloat32(32 + r * 4, ratings[r]!, true);
    }
    const sha256 = createHash('sha256').update('collab-ratings-v1 n=4\n').update(new Uint8Array(buf.buffer)).digest('hex');
    // items 1, 0, 3: three distinct even though index 2 never occurs.
    assert.deepEqual(fingerprintRatings(users, items, ratings), { ratings: 4, users: 3, items: 3, sha256 });
  });

  it('changes when one rating changes', () => {
    const other = ratings.slice();
    other[2] = 4.5;
    assert.notEqual(fingerprintRatings(users, items, other).sha256, fingerprintRatings(users, items, ratings).sha256);
  });

  it('refuses columns of different lengths', () => {
    assert.throws(() => fingerprintRatings(users, items.subarray(1), ratings), {
      code: 'INVALID_OPTION',
      message: 'fingerprintRatings: columns differ in length (users 4, items 3, ratings 4); pass one entry per rating',
    });
  });
});

const CHECKSUM_MESSAGE =
  'manifest was edited or damaged: its contents (ids, kind, config, catalogue, ...) no longer match its manifestSha256; re-save or re-train the model rather than editing it';

describe('manifest checksum', () => {
  const edits: [string, (m: Record<string, any>) => void][] = [
    ['user ids swapped', (m) => {
      m.userIds = [7, 1, 'u-x'];
    }],
    ['yRange 5.5 -> 9.5', (m) => {
      m.yRange = [0.5, 9.5];
    }],
    ['kind dotbias -> dot', (m) => {
      m.kind = 'dot';
    }],
    ['a title', (m) => {
      m.items['260'].title = 'The Usual Suspects (1995)';
    }],
    ['a hyperparameter', (m) => {
      m.config.nFactors = 3;
    }],
    ['the data fingerprint', (m) => {
      m.dataFingerprint.ratings = 5;
    }],
    ['the checksum itself', (m) => {
      m.manifestSha256 = 'b'.repeat(64);
    }],
  ];
  for (const [what, edit] of edits) {
    it(`refuses an edited manifest: ${what}`, () => {
      const { path } = saved();
      editManifest(path, edit);
      assert.throws(() => readModelFile(path), { code: 'BAD_MODEL', message: `${path}: ${CHECKSUM_MESSAGE}` });
      assert.throws(() => verifyModelFile(path), { code: 'BAD_MODEL', message: `${path}: ${CHECKSUM_MESSAGE}` });
    });
  }

  it('refuses a version 2 manifest without its checksum', () => {
    const { path } = saved();
    editManifest(path, (m) => {
      delete m.manifestSha256;
    });
    assert.throws(() => readModelFile(path), {
      message: `${path}: manifest has no "manifestSha256"; the file is incomplete or was not written by collab — re-save or re-train the model`,
    });
  });


  it('still loads a version 1 file (no checksum, weights named model.weights.bin); a new save replaces its weights', () => {
    const { dir, path, weights } = saved();
    renameSync(weights, join(dir, 'model.weights.bin'));
    editManifest(path, (m) => {
      m.version = 1;
      delete m.manifestSha256;
      m.weights.file = 'model.weights.bin';
    });
    const old = readModelFile(path);
    assert.equal(old.manifest.version, 1);
    assert.deepEqual(bytesOf(old.tables.get('userEmb')!), bytesOf(tables()[0]!.data));
    const again = writeModelFile(path, manifestInput(), tables());
    assert.deepEqual(readdirSync(dir).sort(), [again.weights.file, 'model.json'].sort());
  });
});

describe('an interrupted save (kill -9 at every step)', () => {
  const script = `
    import { writeModelFile } from ${JSON.stringify(new URL('./model-file.js', import.meta.url).href)};
    const input = JSON.parse(process.argv[2]);
    const t = [{ name: 'userEmb', rows: 3, cols: 2, data: new Float32Array([9, 9, 9, 9, 9, 9]) }];
    writeModelFile(process.argv[1], { ...input, kind: 'dot', userIds: [7, 1, 'u-x'] }, t);
  `;
  const killedSave = (path: string, step: number): number | null => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, path, JSON.stringify(manifestInput())], {
      env: { ...process.env, COLLAB_TEST_SAVE_KILL_STEP: String(step) },
      encoding: 'utf8',
    });
    assert.equal(r.stderr, '', `step ${step}`);
    return r.signal === 'SIGKILL' ? step : null;
  };

  it('leaves the previous model or the new one, never a mix, and the next save cleans up', () => {
    let sawNew = false;
    let sawOld = false;
    for (let step = 1; step <= 8; step++) {
      const { dir, path } = saved();
      const killed = killedSave(path, step);
      const { manifest, tables: loaded } = readModelFile(path);
      const userEmb = [...loaded.get('userEmb')!];
      if (manifest.kind === 'dot') {
        sawNew = true;
        assert.deepEqual(manifest.userIds, [7, 1, 'u-x'], `step ${step}`);
        assert.deepEqual(userEmb, [9, 9, 9, 9, 9, 9], `step ${step}`);
      } else {
        sawOld = true;
        assert.equal(killed, step, `an old model after a finished save (step ${step})`);
        assert.deepEqual(manifest.userIds, [1, 7, 'u-x'], `step ${step}`);
        assert.deepEqual(bytesOf(loaded.get('userEmb')!), bytesOf(tables()[0]!.data), `step ${step}`);
      }
      const next = writeModelFile(path, manifestInput(), tables());
      assert.deepEqual(readdirSync(dir).sort(), [next.weights.file, 'model.json'].sort(), `step ${step}: stale files removed`);
      if (killed === null) break;
    }
    assert.ok(sawNew && sawOld);
  });
});
