/** collab/server: the HTTP service (fastify), its ratings stores (SQLite, PostgreSQL) and model reloads. */
export { startServer, waitForShutdownSignal, type StartOptions, type RunningServer } from '../server/start.js';
export { buildApp, DEFAULT_LIMITS, type AppOptions, type ServerLimits } from '../server/app.js';
export { CollabService, type ServiceOptions, type ApiMovie, type ApiScored, type ApiRecommendations } from '../server/service.js';
export { ModelSlot, reloadModel, type ModelSlotOptions, type ServedModel, type ModelVersion } from '../server/reload.js';
export { STATUS_OF_CODE, HttpError, errorResponse } from '../server/errors.js';
export { openStore, isPostgresUrl } from '../server/store/open-store.js';
export { SqliteStore, type SqliteStoreOptions } from '../server/store/sqlite-store.js';
export { PgStore, type PgStoreOptions } from '../server/store/pg-store.js';
export type { Store, MovieRow, RatingRow, StoredRating, MovieQuery, StoreCounts } from '../server/store/store.js';
