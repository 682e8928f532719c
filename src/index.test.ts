/**
 * The library's front door: the names `collab` exports, the subpaths package.json's "exports" names (each
 * resolved by the package's own name, as a user imports it) against what the README's Library section says
 * they hold, `learn.recommender()` without a save and load, and `loadRecommender` answering synchronously.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { CollabError, collabLearner, loadRecommender, randomSplit } from './index.js';
import { checkerboard } from './testing/fixtures.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | { types: string; default: string }> };
const readme = readFileSync(join(root, 'README.md'), 'utf8');

let program: ts.Program | undefined;

/** Every name (values and types) a built entry point's declaration file exports, sorted. */
function declaredNames(dts: string): string[] {
  // one program over every entry point: each would otherwise type-check the whole tree again
  program ??= ts.createProgram(
    Object.values(pkg.exports).flatMap((t) => (typeof t === 'object' ? [join(root, t.types)] : [])),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true, types: [] },
  );
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(root, dts));
  assert.ok(source, `${dts} was not built`);
  const symbol = checker.getSymbolAtLocation(source);
  assert.ok(symbol, `${dts} is not a module`);
  return checker.getExportsOfModule(symbol).map((s) => s.name).sort();
}

/** The README's Library section. */
function librarySection(): string {
  const start = readme.indexOf('\n## Library\n');
  assert.ok(start >= 0, 'README has no "## Library" section');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
}

// What a library user needs to load, split, train, recommend, save and load again; the rest is behind subpaths.
const FRONT_DOOR = [
  'CollabError',
  'CollabLearner',
  'CollabLearnerOptions',
  'Dataset',
  'EpochStats',
  'GivenRating',
  'ImplicitRecommender',
  'ItemMeta',
  'LearnerRecommenderOptions',
  'LoadOptions',
  'ModelRecommender',
  'ModelRecommenderOptions',
  'MovieInfo',
  'Ratings',
  'RawId',
  'RecommendOptions',
  'Recommender',
  'ScoredItem',
  'SplitResult',
  'collabLearner',
  'fetchDataset',
  'loadDataset',
  'loadRecommender',
  'randomSplit',
  'readRatingsFile',
  'temporalSplit',
].sort();

test('collab exports the front door and nothing else: 26 names, none of them internals', async () => {
  assert.deepEqual(declaredNames(pkg.exports['.'] && typeof pkg.exports['.'] === 'object' ? pkg.exports['.'].types : ''), FRONT_DOOR);
  const values = Object.keys(await import(pkg.name)).sort();
  assert.deepEqual(values, ['CollabError', 'CollabLearner', 'collabLearner', 'fetchDataset', 'loadDataset', 'loadRecommender', 'randomSplit', 'readRatingsFile', 'temporalSplit']);
});

test('the README lists the front door exactly', () => {
  const paragraph = /\n`collab` itself exports only what that takes:([\s\S]*?)\nThe pieces are public behind subpaths/.exec(librarySection());
  assert.ok(paragraph, 'README\'s Library section has no "`collab` itself exports only what that takes:" paragraph');
  const named = [...paragraph[1]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!).sort();
  assert.deepEqual(named, FRONT_DOOR);
});

test('every subpath of package.json "exports" resolves by the package name and holds what the README says', async () => {
  const rows = [...librarySection().matchAll(/^\| `collab\/([a-z]+)` \| [^|]+ \| ([^|]+) \|$/gm)];
  const documented = new Map(rows.map((m) => [`./${m[1]!}`, [...m[2]!.matchAll(/`([A-Za-z]+)`/g)].map((n) => n[1]!)]));
  const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json');
  assert.deepEqual([...documented.keys()].sort(), subpaths.sort(), 'the README\'s subpath table and package.json\'s exports name the same subpaths');
  for (const sub of subpaths) {
    const target = pkg.exports[sub]!;
    assert.ok(typeof target === 'object', `${sub} names its types and its module`);
    const mod = (await import(`${pkg.name}/${sub.slice(2)}`)) as Record<string, unknown>;
    const declared = new Set(declaredNames(target.types));
    for (const name of documented.get(sub)!) {
      assert.ok(declared.has(name), `collab/${sub.slice(2)} declares ${name}, as the README says`);
      assert.ok(name in mod, `collab/${sub.slice(2)} exports ${name} at run time, as the README says`);
    }
  }
});

test('learn.recommender() recommends like the saved and loaded model, leaving out every training and validation rating', async () => {
  const { ratings, items } = checkerboard();
  const { train, valid } = randomSplit(ratings, { validPct: 0.2, seed: 7 });
  const learn = collabLearner(train, valid, { model: 'dotbias', nFactors: 4, seed: 1 });
  await learn.fitOneCycle(3, 1e-2);
  const rec = learn.recommender({ items, minRatings: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'collab-front-door-'));
  try {
    learn.save(join(dir, 'model.json'), items);
    const loaded = loadRecommender(join(dir, 'model.json'), { minRatings: 0 });
    for (const userId of [1, 2, 21, 40]) {
      const u = ratings.userIds.lookup(userId, 'error', 'user');
      const rated = new Set<number>();
      for (let r = 0; r < ratings.ratings.length; r++) if (ratings.users[r] === u) rated.add(ratings.itemIds.idOf(ratings.items[r]!) as number);
      const picks = rec.recommendForUser(userId, { n: 30 });
      assert.deepEqual(
        picks.filter((s) => rated.has(s.itemId as number)).map((s) => s.itemId),
        [],
        `user ${userId}: nothing they rated in training or validation`,
      );
      assert.equal(picks.length, 30 - rated.size, `user ${userId}: every movie they did not rate`);
      assert.equal(picks[0]?.title.startsWith('Movie '), true, 'titles come from the items given');
      assert.deepEqual(
        picks.map((s) => [s.itemId, s.score]),
        loaded.recommendForUser(userId, { n: 30 }).map((s) => [s.itemId, s.score]),
        `user ${userId}: the same list as the model file gives`,
      );
      assert.equal(rec.recommendForUser(userId, { n: 30, includeRated: true }).length, 30, 'includeRated keeps the rated movies');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadRecommender answers synchronously: a recommender, or a thrown CollabError for a missing file', () => {
  const missing = join(tmpdir(), 'collab-no-such-model.json');
  assert.throws(() => loadRecommender(missing), (err: unknown) => {
    assert.ok(err instanceof CollabError);
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.message, `${missing}: model file not found; check the path (collab train --out writes it)`);
    return true;
  });
});
