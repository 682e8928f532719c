import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Recommender } from '../recommend/types.js';
import { errorResponse, HttpError } from './errors.js';
import * as S from './schemas.js';
import { installMetrics } from './metrics.js';
import { modelFileVersion, ModelSlot, reloadModel } from './reload.js';
import { RequestLog } from './request-log.js';
import type { Store } from './store/store.js';

/** Options of `buildApp`. */
export interface AppOptions {
  recommender: Recommender;
  store: Store;
  /** Bearer token the write endpoints require. Default: none (writes are open). */
  token?: string;
  /** Largest request body in bytes; bigger ones get 413. Default 65536. */
  bodyLimit?: number;
  /** Folder of the built web page. Default: dist/web beside the compiled server. */
  webRoot?: string;
  /** Fastify logger setting. Default false. */
  logger?: boolean | { level: string; stream?: { write(line: string): void } };
  /** Inclusive star range of a rating. Default [0.5, 5]. */
  ratingRange?: [number, number];
  /** Close the store when the app closes. Default true. */
  closeStore?: boolean;
  /** The model file `recommender` was loaded from: what `POST /api/model/reload` reads again. Default: none (reload refused). */
  modelPath?: string;
  /** Serve `GET /api/metrics` (Prometheus text). Default true. */
  metrics?: boolean;
}

/** Where `npm run build` puts the web page: <package>/dist/web, seen from dist/server/app.js. */
export const DEFAULT_WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'web');

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** An onRequest hook that demands `Authorization: Bearer <token>` (401 when missing, 403 when wrong). */
function bearerAuth(token: string | undefined) {
  const want = token === undefined ? undefined : digest(token);
  return async (req: FastifyRequest): Promise<void> => {
    if (want === undefined) return;
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m === null) {
      throw new HttpError(401, 'UNAUTHORIZED', 'this endpoint needs an "Authorization: Bearer <token>" header (the server was started with --token)', 'authorization');
    }
    // compare digests so the time taken says nothing about the token
    if (!timingSafeEqual(digest(m[1]!), want)) {
      throw new HttpError(403, 'FORBIDDEN', 'the bearer token is wrong; use the token the server was started with', 'authorization');
    }
  };
}

/** The reload endpoint's hook: always needs the token, so a server started without one refuses reloads (403). */
function reloadAuth(token: string | undefined) {
  if (token !== undefined) return bearerAuth(token);
  return async (): Promise<void> => {
    throw new HttpError(403, 'FORBIDDEN', 'model reload is off: start the server with --token (or $COLLAB_TOKEN), or send it SIGHUP', 'authorization');
  };
}

/**
 * The collab HTTP service: JSON API under /api (schema-validated, OpenAPI at /api/openapi.json), the
 * built web page at /, security headers, body limit, bearer token on writes, JSON errors only.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const range = options.ratingRange ?? [0.5, 5];
  const version = options.modelPath === undefined ? { sha256: 'unknown', loadedAt: new Date().toISOString() } : modelFileVersion(options.modelPath);
  const models = new ModelSlot(options.recommender, options.store, options.modelPath, version, { ratingRange: range });
  // each handler takes the served model once, at its start: a reload never swaps it mid-request
  const model = () => models.current;
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // report unknown body fields instead of silently dropping them
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    logController: new RequestLog(),
  });
  app.decorate('models', models);
  let draining = false;
  app.decorate('drain', () => {
    draining = true;
  });
  if (options.metrics !== false) installMetrics(app, { models, store: options.store, draining: () => draining });

  app.setErrorHandler((err, req, reply) => {
    const r = errorResponse(err, bodyLimit);
    if (r.internal) req.log.error(err);
    if (r.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    void reply.status(r.status).send(r.body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}; see /api/openapi.json` } });
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'collab', version: '0.1.0', description: 'Movie recommendations from a collaborative-filtering model, with ratings stored in SQLite or PostgreSQL.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  const write = { onRequest: bearerAuth(options.token) };
  const security = options.token === undefined ? [] : [{ bearer: [] }];

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/health', { schema: { summary: 'liveness, model and database summary' } }, async (_req, reply) => {
    const { recommender } = model();
    if (draining) {
      // the balancer's health check sees this and stops sending before the listener closes
      void reply.status(503);
      return { status: 'draining' };
    }
    const [counts, schemaVersion] = await Promise.all([options.store.counts(), options.store.schemaVersion()]);
    const info = recommender.info;
    return { status: 'ok', model: { kind: info.kind, nUsers: info.nUsers, nItems: info.nItems }, db: { kind: options.store.kind, schemaVersion, ...counts } };
  });

  app.get('/api/model', { schema: { summary: 'model kind, version, hyperparameters and training history' } }, async () => {
    const { recommender, version } = model();
    const i = recommender.info;
    return { kind: i.kind, version, scoreKind: i.scoreKind ?? 'rating', config: i.config, history: i.history, nUsers: i.nUsers, nItems: i.nItems, ...(i.yRange ? { yRange: i.yRange } : {}) };
  });

  app.post(
    '/api/model/reload',
    { onRequest: reloadAuth(options.token), schema: { summary: 'load the model file again and swap it in when it passes its checks', security: [{ bearer: [] }] } },
    async () => reloadModel(models),
  );

  app.get('/api/genres', { schema: { summary: 'genres of the catalogue with movie counts' } }, async () => ({ genres: model().service.genres() }));

  app.get<{ Querystring: { q?: string; genre?: string; limit: number; offset: number } }>(
    '/api/movies',
    { schema: { summary: 'search and browse movies, most-rated first', querystring: S.movieQuery, response: { 200: S.movieList, ...S.errors } } },
    async (req) => {
      const { q, genre, limit, offset } = req.query;
      const found = await model().service.searchMovies({ q, genre, limit, offset });
      return { total: found.total, limit, offset, movies: found.movies };
    },
  );

  app.get<{ Params: { id: number }; Querystring: { n: number } }>(
    '/api/movies/:id',
    { schema: { summary: 'one movie and the movies most similar to it', params: S.idParams, querystring: S.similarQuery, response: { 200: S.movieDetails, ...S.errors } } },
    async (req) => model().service.movieDetails(req.params.id, req.query.n),
  );

  app.get<{ Params: { id: number }; Querystring: { n: number; genre?: string } }>(
    '/api/users/:id/recommendations',
    { schema: { summary: 'top-N for a user, with "because you liked" reasons', params: S.idParams, querystring: S.recommendQuery, response: { 200: S.recommendations, ...S.errors } } },
    async (req) => ({ userId: req.params.id, ...(await model().service.recommendForUser(req.params.id, { n: req.query.n, genre: req.query.genre })) }),
  );

  app.post<{ Querystring: { n: number; genre?: string }; Body: { movieId: number; rating: number }[] }>(
    '/api/recommendations',
    {
      schema: {
        summary: 'top-N for an anonymous visitor from their ratings (fold-in, nothing stored)',
        querystring: S.recommendQuery,
        body: S.ratingsBody(range),
        response: { 200: S.recommendations, ...S.errors },
      },
    },
    async (req) => model().service.recommendForRatings(req.body, { n: req.query.n, genre: req.query.genre }),
  );

  app.post<{ Params: { id: number }; Body: { movieId: number; rating: number } }>(
    '/api/users/:id/ratings',
    {
      ...write,
      schema: {
        summary: "store (or replace) a user's rating of a movie; the next recommendations use it",
        params: S.idParams,
        body: S.rateBody(range),
        security,
        response: { 201: S.rated, ...S.errors },
      },
    },
    async (req, reply) => {
      const { service, recommender } = model();
      const stored = await service.rate(req.params.id, req.body.movieId, req.body.rating);
      const title = recommender.movie(stored.movieId)?.title;
      void reply.status(201);
      return { rating: { ...stored, ...(title ? { title } : {}) } };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/users/:id/ratings',
    { schema: { summary: "a user's stored ratings, most recent first", params: S.idParams, response: { 200: S.userRatings, ...S.errors } } },
    async (req) => ({ userId: req.params.id, ratings: await model().service.userRatings(req.params.id) }),
  );

  app.get<{ Querystring: { limit: number } }>(
    '/api/map',
    { schema: { summary: 'a 2-D PCA map of the most-rated movies', querystring: S.mapQuery, response: { 200: S.mapPoints, ...S.errors } } },
    async (req) => ({ points: model().service.movieMap(req.query.limit).map((p) => ({ movieId: p.itemId, title: p.title, x: p.x, y: p.y, ratingCount: p.ratingCount })) }),
  );

  const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
  if (existsSync(join(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: webRoot,
      prefix: '/',
      index: ['index.html'],
      list: false,
      dotfiles: 'deny',
      setHeaders(reply, path) {
        // hashed asset names never change content; the page itself is revalidated
        void reply.header('Cache-Control', /[\/]assets[\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => {
      void reply.status(503);
      return { error: { code: 'NO_WEB_PAGE', message: 'the web page is not built; run `npm run build`' } };
    });
  }

  // requests still running when close() starts get "Connection: close", so their keep-alive sockets do
  // not hold the shutdown open until the keep-alive timeout
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  if (options.closeStore !== false) app.addHook('onClose', async () => options.store.close());
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The served model and its service (swapped by reloads; read `.current` once per request). */
    models: ModelSlot;
    /** Starts draining: /api/health answers 503 so a balancer stops sending; the caller closes the app later. */
    drain(): void;
  }
}
