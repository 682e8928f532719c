import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelSlot } from './reload.js';
import type { Store } from './store/store.js';

/** What `installMetrics` reports on besides the requests. */
export interface MetricsSources {
  models: ModelSlot;
  store: Store;
  /** Whether the server is draining (SIGTERM received). */
  draining: () => boolean;
}

/** Latency buckets in seconds: the service answers in milliseconds, so most of them sit below 0.1 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Adds `GET /api/metrics` in Prometheus text format: requests and latency per route (the route
 * pattern, not the URL, so user ids do not explode the label set), the served model's version, the
 * database pool and the process. One registry per app, so several apps in one process stay apart.
 */
export function installMetrics(app: FastifyInstance, sources: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'collab_http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const latency = new Histogram({ name: 'collab_http_request_duration_seconds', help: 'time from request to response, by route', labelNames: ['method', 'route'] as const, buckets: LATENCY_BUCKETS, registers: [registry] });
  new Gauge({
    name: 'collab_model_info',
    help: 'the served model (always 1): kind and the sha256 of its manifest',
    labelNames: ['kind', 'sha256'] as const,
    registers: [registry],
    collect() {
      const { recommender, version } = sources.models.current;
      this.reset();
      this.set({ kind: recommender.info.kind, sha256: version.sha256 }, 1);
    },
  });
  new Gauge({
    name: 'collab_model_loaded_timestamp_seconds',
    help: 'when this process loaded the served model (Unix seconds)',
    registers: [registry],
    collect() {
      this.set(Date.parse(sources.models.current.version.loadedAt) / 1000);
    },
  });
  new Gauge({
    name: 'collab_db_pool_connections',
    help: 'database pool connections by state (PostgreSQL; SQLite has no pool)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pool = sources.store.poolState?.();
      if (pool === undefined) return;
      this.set({ state: 'total' }, pool.total);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });
  new Gauge({
    name: 'collab_draining',
    help: '1 while the server drains before shutting down',
    registers: [registry],
    collect() {
      this.set(sources.draining() ? 1 : 0);
    },
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/api/metrics', { schema: { hide: true } }, async (_req, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
