import { buildApp } from '../app.js';
import { catalogueRows } from '../service.js';
import { waitForShutdownSignal } from '../start.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { makeFactorRecommender } from './factor-recommender.js';

/**
 * TEST SUPPORT: a server process for the graceful-shutdown test. Writes are slowed by argv[3] ms so a
 * test can signal the process while one is in flight. Prints {"url"} once listening, {"closed"} at the end.
 */
const file = process.argv[2]!;
const delayMs = Number(process.argv[3] ?? '0');
const recommender = makeFactorRecommender();
const store = new SqliteStore(file);
await store.importMovies(catalogueRows(recommender));
const upsert = store.upsertRating.bind(store);
store.upsertRating = async (...args) => {
  await new Promise((r) => setTimeout(r, delayMs));
  return upsert(...args);
};
const app = await buildApp({ recommender, store });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ url }) + '\n');
const signal = await waitForShutdownSignal();
await app.close();
process.stdout.write(JSON.stringify({ closed: signal }) + '\n');
