import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('bench:load runs end to end on a small file and reports consistent figures', () => {
  const script = fileURLToPath(new URL('./load.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--rows', '20000'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^generated 20,000 ratings/);
  const m = JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
  assert.equal(m.rows, 20000);
  assert.equal(m.columnBytes, 20000 * 20);
  assert.ok(m.rowsPerSecond! > 0 && m.peakRssBytes! > m.baselineRssBytes!);
  assert.equal(m.bytesPerRatingBeyondColumns, (m.peakRssBytes! - m.columnBytes!) / m.rows!);
});
