import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import { IdMap } from '../data/id-map.js';
import type { ItemMeta, Ratings } from '../data/ratings.js';
import { checkerboard, runCli } from '../testing/fixtures.js';
import { collabLearner } from '../train/learner.js';
import { readSparkAls, sparkAlsFromTrainedModel, trainedModelFromSparkAls, writeSparkAls, SPARK_ALS_CLASS } from './spark-als.js';
import { loadTrainedModel, saveTrainedModel, type TrainedModel } from './trained-model.js';

/** Made by @dsnp/parquetjs (see testdata/make-spark-als-parquetjs.mjs), not by collab's writer. */
const FIXTURE = fileURLToPath(new URL('../../src/io/testdata/spark-als-parquetjs', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'collab-spark-'));
let dot: TrainedModel;
const board = checkerboard();

before(async () => {
  const learner = collabLearner(board.ratings, undefined, { model: 'dot', nFactors: 5, batchSize: 32, wd: 0.01, seed: 3 });
  await learner.fitOneCycle(5, 0.05);
  dot = { model: learner.model, train: board.ratings, items: board.items, history: { epochs: learner.history } };
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Files under a folder, relative, sorted. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.replaceAll('\\', '/')).sort();
}

describe('export to Spark, import back', () => {
  test('the round trip gives the same predictions to float32 precision, for every user and movie', async () => {
    const dir = join(tmp, 'roundtrip');
    writeSparkAls(dir, sparkAlsFromTrainedModel(dot));
    const back = trainedModelFromSparkAls(await readSparkAls(dir), { ratings: board.ratings, items: board.items, name: 'checkerboard' });
    assert.equal(back.model.kind, 'dot');
    const { userIds, itemIds } = dot.train;
    for (let u = 0; u < userIds.size; u++) {
      for (let i = 0; i < itemIds.size; i++) {
        const want = dot.model.predict(u, i);
        const got = back.model.predict(back.train.userIds.indexOf(userIds.idOf(u)), back.train.itemIds.indexOf(itemIds.idOf(i)));
        assert.equal(Math.fround(got), Math.fround(want), `user ${String(userIds.idOf(u))} movie ${String(itemIds.idOf(i))}`);
      }
    }
    assert.equal(back.items.get(101)?.title, 'Movie 101 (1990)');
    assert.equal(back.train.ratings.length, board.ratings.ratings.length, "the catalogue's ratings of the model's users come along");
  });

  test('an mf model travels as rank k + 2 with its biases: the same predictions up to float32 rounding and collab\'s clipping', async () => {
    const learner = collabLearner(board.ratings, undefined, { model: 'mf', nFactors: 4, seed: 2 });
    await learner.fit(2, 0.01);
    const mf = learner.model;
    const dir = join(tmp, 'mf');
    writeSparkAls(dir, sparkAlsFromTrainedModel({ ...dot, model: mf }));
    const als = await readSparkAls(dir);
    assert.equal(als.rank, 6);
    const back = trainedModelFromSparkAls(als, { ratings: board.ratings, items: board.items, name: 'checkerboard' });
    const clip = mf.config().clip as [number | null, number | null];
    const lo = clip[0] ?? -Infinity;
    const hi = clip[1] ?? Infinity;
    const { userIds, itemIds } = board.ratings;
    let worst = 0;
    for (let u = 0; u < mf.nUsers; u++) {
      for (let i = 0; i < mf.nItems; i++) {
        const spark = back.model.predict(back.train.userIds.indexOf(userIds.idOf(u)), back.train.itemIds.indexOf(itemIds.idOf(i)));
        worst = Math.max(worst, Math.abs(Math.min(hi, Math.max(lo, spark)) - mf.predict(u, i)));
      }
    }
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });

  test("the directory has Spark's layout: metadata JSON, _SUCCESS files, snappy part files with Spark's schema", () => {
    const dir = join(tmp, 'layout');
    writeSparkAls(dir, sparkAlsFromTrainedModel(dot));
    const files = tree(dir);
    assert.deepEqual(files.filter((f) => !/part-00000-.*parquet$/.test(f)), ['itemFactors', 'itemFactors/_SUCCESS', 'metadata', 'metadata/_SUCCESS', 'metadata/part-00000', 'userFactors', 'userFactors/_SUCCESS']);
    for (const sub of ['userFactors', 'itemFactors']) {
      const part = files.find((f) => f.startsWith(`${sub}/part-`))!;
      assert.match(part, new RegExp(`^${sub}/part-00000-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-c000\\.snappy\\.parquet$`));
      const bytes = readFileSync(join(dir, part));
      const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      assert.deepEqual(md.schema.map((s) => [s.name, s.type, s.repetition_type, s.converted_type]), [
        ['spark_schema', undefined, undefined, undefined],
        ['id', 'INT32', 'REQUIRED', undefined],
        ['features', undefined, 'OPTIONAL', 'LIST'],
        ['list', undefined, 'REPEATED', undefined],
        ['element', 'FLOAT', 'REQUIRED', undefined],
      ]);
      assert.deepEqual(new Set(md.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec))), new Set(['SNAPPY']));
      assert.ok(md.key_value_metadata?.some((kv) => kv.key === 'org.apache.spark.sql.parquet.row.metadata'));
    }
    const text = readFileSync(join(dir, 'metadata', 'part-00000'), 'utf8');
    assert.ok(text.endsWith('}\n') && text.split('\n').length === 2, 'one JSON line');
    const meta = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(meta), ['class', 'timestamp', 'sparkVersion', 'uid', 'paramMap', 'defaultParamMap', 'rank']);
    assert.equal(meta.class, SPARK_ALS_CLASS);
    assert.match(String(meta.sparkVersion), /^3\.\d+\.\d+$/);
    assert.match(String(meta.uid), /^als_[0-9a-f]{12}$/);
    assert.equal(meta.rank, 5);
    assert.deepEqual(meta.paramMap, { userCol: 'userId', itemCol: 'movieId', predictionCol: 'prediction', coldStartStrategy: 'nan', blockSize: 4096 });
    assert.deepEqual(meta.defaultParamMap, { userCol: 'user', itemCol: 'item', predictionCol: 'prediction', coldStartStrategy: 'nan', blockSize: 4096 });
  });
});

describe('a model written by another Parquet writer', () => {
  test('reads ids and factors exactly, across part files and out of id order', async () => {
    const als = await readSparkAls(FIXTURE);
    assert.equal(als.rank, 3);
    assert.equal(als.userCol, 'userId');
    assert.equal(als.itemCol, 'movieId');
    assert.deepEqual([...als.users.ids], [1, 2, 3]);
    assert.deepEqual([...als.users.factors], [1.5, 0.75, -0.5, -1, 0.125, 0.375, 0.5, -0.25, 1]);
    assert.deepEqual([...als.items.ids], [101, 102, 103, 104]);
    assert.deepEqual([...als.items.factors], [1, 0, -1, -0.5, 2, 0.25, 0.125, -0.375, 1.25, 0.25, 0.5, 0.75]);
  });

  test('serves as a dot model: p·q worked out by hand, titles from the catalogue', async () => {
    const userIds = new IdMap();
    const itemIds = new IdMap();
    const ratings: Ratings = { users: Int32Array.of(userIds.add(1), userIds.add(9)), items: Int32Array.of(itemIds.add(101), itemIds.add(102)), ratings: Float32Array.of(4, 3), userIds, itemIds };
    const items = new Map<number, ItemMeta>([101, 102, 103, 104].map((id) => [id, { title: `Film ${id}`, genres: ['Drama'] }]));
    const m = trainedModelFromSparkAls(await readSparkAls(FIXTURE), { ratings, items, name: 'tiny' });
    const pred = (u: number, i: number) => m.model.predict(m.train.userIds.indexOf(u), m.train.itemIds.indexOf(i));
    assert.equal(pred(1, 102), 0.625); // 1.5·-0.5 + 0.75·2 + -0.5·0.25
    assert.equal(pred(3, 103), 1.40625); // 0.5·0.125 + -0.25·-0.375 + 1·1.25
    assert.equal(m.items.get(104)?.title, 'Film 104');
    assert.equal(m.train.ratings.length, 1, 'only ratings of the model\'s users are kept (user 9 is not in it)');
  });
});

describe('bad or partial directories', () => {
  /** A copy of the fixture with one change, in a fresh folder. */
  function broken(name: string, change: (dir: string) => void): string {
    const dir = join(tmp, name);
    cpSync(FIXTURE, dir, { recursive: true });
    change(dir);
    return dir;
  }

  test('each missing part is named', async () => {
    const noSuccess = broken('no-success', (d) => rmSync(join(d, 'itemFactors', '_SUCCESS')));
    await assert.rejects(readSparkAls(noSuccess), { code: 'BAD_FILE', message: `${noSuccess}: itemFactors/_SUCCESS is missing; the Spark job writing it did not finish; save the model again` });
    const noItems = broken('no-items', (d) => rmSync(join(d, 'itemFactors'), { recursive: true }));
    await assert.rejects(readSparkAls(noItems), { message: `${noItems}: itemFactors/ is missing; the Spark save did not finish or the folder was not copied; save the model again` });
    const noMeta = broken('no-meta', (d) => rmSync(join(d, 'metadata', 'part-00000')));
    await assert.rejects(readSparkAls(noMeta), { message: `${noMeta}: metadata/part-00000 is missing; the Spark save did not finish; save the model again` });
    const noParts = broken('no-parts', (d) => {
      for (const f of readdirSync(join(d, 'userFactors'))) if (f.startsWith('part-')) rmSync(join(d, 'userFactors', f));
    });
    await assert.rejects(readSparkAls(noParts), { message: `${noParts}: userFactors/part-*.parquet is missing; the folder holds no Parquet part files; save the model again` });
    await assert.rejects(readSparkAls(join(tmp, 'nowhere')), { code: 'NOT_FOUND', message: `${join(tmp, 'nowhere')}: no such folder; give the directory ALSModel.save wrote` });
  });

  test('wrong class, wrong rank and a damaged Parquet file are refused naming the file', async () => {
    const other = broken('other-class', (d) => writeFileSync(join(d, 'metadata', 'part-00000'), '{"class":"org.apache.spark.ml.feature.PCAModel","rank":3}\n'));
    await assert.rejects(readSparkAls(other), { message: `${join(other, 'metadata', 'part-00000')}:1: class is "org.apache.spark.ml.feature.PCAModel", expected "${SPARK_ALS_CLASS}"; save the model with ALSModel.save (or model.write().save)` });
    const rank = broken('rank', (d) => writeFileSync(join(d, 'metadata', 'part-00000'), `{"class":"${SPARK_ALS_CLASS}","rank":4}\n`));
    const userPart = readdirSync(join(rank, 'userFactors')).filter((f) => f.startsWith('part-')).sort()[0]!;
    await assert.rejects(readSparkAls(rank), { message: `${join(rank, 'userFactors', userPart)}: row 0 (id 3) has 3 features, expected the metadata's rank 4` });
    const damaged = broken('damaged', (d) => writeFileSync(join(d, 'itemFactors', 'part-00000-5c1d9e77-8a2b-4f10-b3c4-7d8e9f0a1b2c-c000.snappy.parquet'), 'PAR1 not really'));
    await assert.rejects(readSparkAls(damaged), (err: Error) => err.message.startsWith(`${join(damaged, 'itemFactors', 'part-00000-5c1d9e77-8a2b-4f10-b3c4-7d8e9f0a1b2c-c000.snappy.parquet')}: not a readable Parquet file (`));
  });

  test('export refuses an existing folder and a model that is not p·q, writing nothing', async () => {
    const parent = join(tmp, 'exports');
    cpSync(FIXTURE, join(parent, 'taken'), { recursive: true });
    const before = tree(parent);
    assert.throws(() => writeSparkAls(join(parent, 'taken'), sparkAlsFromTrainedModel(dot)), { message: `${join(parent, 'taken')}: already exists; remove it or pick another folder (nothing was written)` });
    const learner = collabLearner(board.ratings, undefined, { model: 'dotbias', nFactors: 3, seed: 1 });
    assert.throws(() => sparkAlsFromTrainedModel({ ...dot, model: learner.model }), { code: 'BAD_MODEL', message: "a dotbias model does not predict a dot product p·q, so Spark's ALSModel would predict something else; export a dot or mf model (collab train --model mf)" });
    assert.deepEqual(tree(parent), before);
  });
});

describe('collab model import/export spark', () => {
  test('export then import on the command line; the imported model recommends', () => {
    const modelPath = join(tmp, 'cli-dot.json');
    saveTrainedModel(modelPath, dot);
    const dir = join(tmp, 'cli-als');
    const exp = runCli(['model', 'export', 'spark', modelPath, dir, '--json']);
    assert.equal(exp.status, 0, exp.stderr);
    assert.deepEqual(exp.json, { dir, rank: 5, users: 40, movies: 30 });
    const data = join(tmp, 'ratings.csv');
    const r = board.ratings;
    writeFileSync(data, 'userId,movieId,rating\n' + Array.from(r.ratings, (v, t) => `${String(r.userIds.idOf(r.users[t]!))},${String(r.itemIds.idOf(r.items[t]!))},${v}`).join('\n') + '\n');
    const out = join(tmp, 'cli-imported.json');
    const imp = runCli(['model', 'import', 'spark', dir, '--data', data, '--out', out, '--json']);
    assert.equal(imp.status, 0, imp.stderr);
    assert.deepEqual(imp.json, { out, rank: 5, users: 40, movies: 30, ratings: r.ratings.length });
    const back = loadTrainedModel(out);
    const u = dot.train.userIds.indexOf(back.train.userIds.idOf(0));
    const i = dot.train.itemIds.indexOf(back.train.itemIds.idOf(0));
    assert.equal(Math.fround(back.model.predict(0, 0)), Math.fround(dot.model.predict(u, i)));
    const rec = runCli(['recommend', '--model', out, '--user', '1', '--json']);
    assert.equal(rec.status, 0, rec.stderr);

    const db = join(tmp, 'service.sqlite');
    assert.equal(runCli(['db', 'import', data, '--db', db]).status, 0);
    const fromDb = join(tmp, 'cli-from-db.json');
    const viaDb = runCli(['model', 'import', 'spark', dir, '--db', db, '--out', fromDb, '--json']);
    assert.equal(viaDb.status, 0, viaDb.stderr);
    assert.deepEqual(viaDb.json, { out: fromDb, rank: 5, users: 40, movies: 30, ratings: r.ratings.length });
  });

  test('a bad directory fails with one line naming the missing part, exit 1, no model written', () => {
    const dir = join(tmp, 'cli-partial');
    cpSync(FIXTURE, dir, { recursive: true });
    rmSync(join(dir, 'userFactors', '_SUCCESS'));
    const out = join(tmp, 'never.json');
    const r = runCli(['model', 'import', 'spark', dir, '--data', join(tmp, 'ratings.csv'), '--out', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`userFactors/_SUCCESS is missing; the Spark job writing it did not finish; save the model again`));
    assert.equal(existsSync(out), false);
    const none = runCli(['model', 'import', 'spark', dir, '--out', out]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--data or --db is required: the movies \(titles, genres\) and ratings the Spark model was trained on/);
  });
});
