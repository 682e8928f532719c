import { CollabError } from '../../core/errors.js';
import { IdMap, type RawId } from '../../data/id-map.js';
import type { DatasetIdentity } from '../../data/identity.js';
import type { Dataset, ItemMeta, Ratings } from '../../data/ratings.js';
import { openStore } from './open-store.js';
import type { Store } from './store.js';

/**
 * Every rating in a service database (training imports and ratings given through the API) with its movies
 * and the dataset identity the database records. `open` opens the database (the CLI's checks its flag first).
 */
export async function datasetFromStore(db: string, open: (db: string) => Promise<Store> = openStore): Promise<Dataset & { identity: DatasetIdentity | undefined }> {
  const store = await open(db);
  try {
    const cols = await store.ratingsColumns();
    if (cols.ratings.length === 0) {
      throw new CollabError('NOT_FOUND', `the database ${db} holds no ratings; import some with \`collab db import <dataset> --db ${db}\``, { field: 'db' });
    }
    const userIds = new IdMap();
    const itemIds = new IdMap();
    const users = Int32Array.from(cols.users, (id) => userIds.add(id));
    const itemsCol = Int32Array.from(cols.items, (id) => itemIds.add(id));
    const { movies } = await store.searchMovies({ limit: itemIds.size + 1_000_000 });
    const items = new Map<RawId, ItemMeta>();
    for (const m of movies) items.set(m.movieId, m.year === undefined ? { title: m.title, genres: m.genres } : { title: m.title, genres: m.genres, year: m.year });
    const ratings: Ratings = { users, items: itemsCol, ratings: cols.ratings, timestamps: Float64Array.from(cols.ratedAt, (ms) => ms / 1000), userIds, itemIds };
    const identity = await store.datasetIdentity();
    return { name: `database ${store.kind}`, source: db, ratings, items, users: new Map(), report: { badRows: 0, badRowExamples: [], duplicates: 0 }, identity };
  } finally {
    await store.close();
  }
}
