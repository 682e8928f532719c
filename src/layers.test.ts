import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folders of src/ in the order data flows through them: a folder may import its own files and any
 * folder before it, never one after it. core, kernels and maths are the low toolbox (errors, random
 * numbers, atomic files, workers; WebAssembly kernels; linear algebra, PCA, top-k); data reads ratings
 * and indexes them; models hold every model; io saves and loads them; train fits them; recommend serves
 * them; evaluate measures them; plot draws the figures; server and cli are the two front ends.
 */
export const LAYERS = ['core', 'kernels', 'maths', 'data', 'models', 'io', 'train', 'recommend', 'evaluate', 'plot', 'server', 'cli'] as const;

/**
 * Folders outside the order: bench/ (benchmark scripts) and testing/ (fixtures for tests) may import
 * anything, and the package entry points (src/index.ts and the subpaths in src/exports/) re-export every layer.
 */
const FREE = new Set(['bench', 'testing', 'exports', '.']);

/**
 * Imports allowed against the order, each with its reason. Every other such import was a general piece
 * living in the folder of its first user, and moved down instead.
 */
const ALLOWED: ReadonlySet<string> = new Set<string>([
  // learn.recommender() is the library's front door (fastai/implicit style: train, then recommend from the
  // learner); recommender.ts imports nothing from train/, so this adds no cycle
  'train/learner.ts ../recommend/recommender.js',
]);

/** One import of one file: the folder it sits in and the folder it reaches. */
export interface FolderImport {
  file: string;
  from: string;
  to: string;
  spec: string;
}

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '.';
}

/**
 * Tests are left out: a model's test may train it with the learner, and a test is no part of the
 * package a user installs (package.json leaves dist/**\/*.test.* out of "files").
 */
function isTest(file: string): boolean {
  return /\.test\.ts$/.test(file);
}

/** Every relative import (static, dynamic, re-export and worker `new URL`) of the non-test files under src/. */
export function folderImports(): FolderImport[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)['"](\.\.?\/[^'"]*)['"]/g;
  const out: FolderImport[] = [];
  for (const file of sourceFiles(SRC)) {
    if (isTest(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(re)) {
      const spec = m[1]!;
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith(SRC + sep)) continue; // package.json and scripts sit outside the layers
      out.push({ file: relative(SRC, file), from: folderOf(file), to: folderOf(target), spec });
    }
  }
  return out;
}

/** Imports that run against {@link LAYERS}, as "file: from -> to (spec)". */
export function upwardImports(imports: readonly FolderImport[]): string[] {
  const rank = new Map<string, number>(LAYERS.map((l, j) => [l, j]));
  const bad: string[] = [];
  for (const im of imports) {
    if (im.from === im.to || FREE.has(im.from)) continue;
    const a = rank.get(im.from);
    const b = rank.get(im.to);
    const line = `${im.file}: ${im.from} -> ${im.to} (${im.spec})`;
    if (ALLOWED.has(`${im.file} ${im.spec}`)) continue;
    if (a === undefined) bad.push(`${line}: folder ${im.from} is not in LAYERS`);
    else if (b === undefined) bad.push(`${line}: folder ${im.to} is not in LAYERS`);
    else if (b > a) bad.push(`${line}: ${im.to} comes after ${im.from}`);
  }
  return bad;
}

/** Pairs of folders that import each other (any files, tests left out), as "a <-> b". */
export function mutualImports(imports: readonly FolderImport[]): string[] {
  const edges = new Set(imports.filter((im) => im.from !== im.to).map((im) => `${im.from} ${im.to}`));
  const pairs: string[] = [];
  for (const e of edges) {
    const [a, b] = e.split(' ') as [string, string];
    if (a < b && edges.has(`${b} ${a}`)) pairs.push(`${a} <-> ${b}`);
  }
  return pairs.sort();
}

test('every src folder imports only folders before it in the data flow', () => {
  const bad = upwardImports(folderImports());
  if (bad.length > 0) console.log(`imports against the layer order:\n  ${bad.join('\n  ')}`);
  assert.deepEqual(bad, []);
});

test('no two src folders import each other', () => {
  const pairs = mutualImports(folderImports());
  if (pairs.length > 0) console.log(`folders importing each other:\n  ${pairs.join('\n  ')}`);
  assert.deepEqual(pairs, []);
});

test('the layer check sees an upward import and a mutual pair', () => {
  const imports: FolderImport[] = [
    { file: 'models/x.ts', from: 'models', to: 'recommend', spec: '../recommend/y.js' },
    { file: 'recommend/y.ts', from: 'recommend', to: 'models', spec: '../models/x.js' },
    { file: 'bench/z.ts', from: 'bench', to: 'cli', spec: '../cli/main.js' },
  ];
  assert.deepEqual(upwardImports(imports), ['models/x.ts: models -> recommend (../recommend/y.js): recommend comes after models']);
  assert.deepEqual(mutualImports(imports), ['models <-> recommend']);
});
