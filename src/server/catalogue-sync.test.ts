import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRecommender } from '../recommend/load.js';
import { runCli } from '../testing/fixtures.js';
import { startServer } from './start.js';
import { openStore } from './store/open-store.js';

test('a model without titles (trained on a bare ratings file) keeps the titles the database holds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-catalogue-sync-'));
  try {
    const folder = join(dir, 'cat');
    mkdirSync(folder);
    const ratings = ['userId,movieId,rating'];
    for (let u = 1; u <= 20; u++) for (let i = 1; i <= 10; i++) if ((u + i) % 3 !== 0) ratings.push(`${u},${i},${(u * i) % 5 + 1}`);
    writeFileSync(join(folder, 'ratings.csv'), ratings.join('\n') + '\n');
    writeFileSync(join(folder, 'movies.csv'), 'movieId,title,genres\n' + Array.from({ length: 10 }, (_, k) => `${k + 1},Film ${k + 1} (2001),Drama`).join('\n') + '\n');
    const bare = join(dir, 'bare.csv');
    writeFileSync(bare, ratings.join('\n') + '\n');
    const db = join(dir, 'x.sqlite');
    assert.equal(runCli(['db', 'import', folder, '--db', db]).status, 0);
    const model = join(dir, 'bare.json');
    const trained = runCli(['train', '--data', bare, '--epochs', '1', '--factors', '3', '--out', model]);
    assert.equal(trained.status, 0, trained.stderr);
    const server = await startServer({ recommender: loadRecommender(model), db, port: 0 });
    await server.close();
    const store = await openStore(db);
    try {
      const { movies } = await store.searchMovies({ limit: 20 });
      assert.deepEqual(movies.map((m) => m.title).sort(), Array.from({ length: 10 }, (_, k) => `Film ${k + 1} (2001)`).sort());
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
