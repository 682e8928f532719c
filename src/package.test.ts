import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import semver from 'semver';

/**
 * Every installed package must accept the Node the project promises (package.json "engines"), or
 * `npm ci` prints EBADENGINE warnings and the package may use APIs Node 20 lacks.
 */

// vite and yargs need 20.19, the Node 20 line's current release, so that is the floor checked
const NODE_20 = '20.19.0';

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
}

test(`every package in package-lock.json accepts Node ${NODE_20}`, () => {
  const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, LockEntry> };
  const wants = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;
  assert.ok(semver.satisfies(NODE_20, wants), `package.json engines ${wants} includes Node ${NODE_20}`);
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
    if (range && !semver.satisfies(NODE_20, range)) refused.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${range}`);
  }
  assert.deepEqual(refused, []);
});

test('npm test reports with the spec reporter: one line per test and a closing summary, not 2,000 lines of TAP', () => {
  const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.match(scripts.test ?? '', /^npm run build && node --test --test-reporter=spec /);
});
