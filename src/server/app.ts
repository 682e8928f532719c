import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmetHeaders, { type HelmetOptions } from 'helmet';
import { parse as parseJson } from 'secure-json-parse';
import { displayTitle } from '../data/titles.js';
import type { Recommender } from '../recommend/types.js';
import { errorResponse, HttpError } from './errors.js';
import * as S from './schemas.js';
import { installMetrics } from './metrics.js';
import { modelFileVersion, ModelSlot, reloadModel } from './reload.js';
import { RequestLog } from './request-log.js';
import { DatabaseUnavailableError, type Store } from './store/store.js';

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
  /** Limits that protect the process from slow or many clients; see `DEFAULT_LIMITS`. */
  limits?: Partial<ServerLimits>;
  /** The model file `recommender` was loaded from: what `POST /api/model/reload` reads again. Default: none (reload refused). */
  modelPath?: string;
  /** Serve `GET /api/metrics` (Prometheus text). Default true. */
  metrics?: boolean;
}

/** Timeouts and caps of the HTTP server. */
export interface ServerLimits {
  /** Milliseconds a client has to send a whole request (headers and body); then 408 and the socket closes. Default 30000. */
  requestTimeoutMs: number;
  /** Milliseconds a client has to send the headers. Default 10000. */
  headersTimeoutMs: number;
  /** Milliseconds a socket may sit idle (no bytes either way) before it is closed. Default 60000. */
  idleTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection is kept for the next request. Default 5000. */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive connection before it is closed. Default 1000. */
  maxRequestsPerSocket: number;
  /** Open connections at once; more are refused at accept so file descriptors never run out. Default 1024. */
  maxConnections: number;
  /** Milliseconds /api/health waits for the database before answering 503. Default 2000. */
  healthTimeoutMs: number;
}

/** The defaults of `ServerLimits`. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1_000,
  maxConnections: 1_024,
  healthTimeoutMs: 2_000,
};

/** Security headers of every response, including those fastify answers before routing (bad URLs). */
const HELMET: HelmetOptions = {
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
};

/**
 * HELMET's headers as name/value pairs, for the answers given before any hook runs (a bad URL) or
 * without fastify at all (a request that is not valid HTTP, or too slow).
 */
const SECURITY_HEADERS: readonly [string, string][] = (() => {
  const out: [string, string][] = [];
  const collect = { setHeader: (name: string, value: unknown) => out.push([name, String(value)]), removeHeader: () => {} };
  helmetHeaders(HELMET)({} as IncomingMessage, collect as unknown as ServerResponse, () => {});
  return out;
})();

/** The raw HTTP answer to a client error node reports before fastify sees a request. */
function clientErrorAnswer(err: NodeJS.ErrnoException, requestTimeoutMs: number): string {
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', `the request was not complete within ${requestTimeoutMs} ms; send the headers and body without pauses`]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'the request headers are too large']
        : [400, 'BAD_REQUEST', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } });
  const headers = SECURITY_HEADERS.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
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
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const r = errorResponse(err, bodyLimit);
    if (r.internal) req.log.error(err);
    if (r.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    for (const [name, value] of Object.entries(r.headers ?? {})) void reply.header(name, value);
    void reply.status(r.status).send(r.body);
  };
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    return503OnClosing: true,
    logController: new RequestLog(),
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    // node checks request deadlines on this interval, so a short timeout needs a short interval
    http: { headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs), connectionsCheckingInterval: Math.min(1_000, Math.max(100, limits.requestTimeoutMs / 4)) },
    // errors fastify raises before routing (a bad %-escape) get the same JSON and security headers
    frameworkErrors: (err, req, reply) => {
      for (const [name, value] of SECURITY_HEADERS) void reply.header(name, value);
      sendError(err, req, reply);
    },
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorAnswer(err, limits.requestTimeoutMs));
      socket.destroy(err);
    },
  });
  app.server.maxConnections = limits.maxConnections;
  app.decorate('models', models);
  let draining = false;
  app.decorate('drain', () => {
    draining = true;
  });
  if (options.metrics !== false) installMetrics(app, { models, store: options.store, draining: () => draining });

  // bodies are JSON as sent ("5" is not a rating); only the query and path, which are text, are coerced
  const ajvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, verbose: true } as const;
  const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
  const textAjv = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  // text/plain would reach the schema as a string; bodies are JSON only (415 otherwise)
  app.removeContentTypeParser(['text/plain', 'application/json']);
  // fastify's own parser answers every failure, a poisoned key included, with "not valid JSON"
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    if (text === '') {
      done(new HttpError(400, 'BAD_REQUEST', 'the body is empty but Content-Type says JSON; send a JSON body', 'body'), undefined);
      return;
    }
    try {
      done(null, parseJson(text as string, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const message = /forbidden prototype property/.test((err as Error).message)
        ? 'body must not contain "__proto__" or "constructor": "prototype" keys; send only the documented fields'
        : `body is not valid JSON: ${(err as Error).message}`;
      done(new HttpError(400, 'BAD_REQUEST', message, 'body'), undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));

  // methods of each route pattern, so a wrong method on a known path is 405 with Allow, not 404
  const routes: { pattern: RegExp; methods: Set<string>; wildcard: boolean }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push({ pattern, methods: new Set(methods), wildcard: route.url.includes('*') });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const api = path.startsWith('/api/');
    const allowed = new Set<string>();
    for (const r of routes) if (!(api && r.wildcard) && r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(', ');
      void reply.status(405).header('Allow', allow).send({ error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${path}; use ${allow}` } });
      return;
    }
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}; see /api/openapi.json` } });
  });

  // ids and counts are decimal integers: without this the query coercion reads 0x10 as 16 and 1e3 as 1000
  app.addHook('preValidation', async (req) => {
    const schema = req.routeOptions.schema;
    for (const [part, values, label] of [[schema?.params, req.params, 'params'], [schema?.querystring, req.query, 'query']] as const) {
      const props = (part as { properties?: Record<string, { type?: string }> } | undefined)?.properties;
      if (props === undefined || values === null || typeof values !== 'object') continue;
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        if (props[name]?.type !== 'integer' || typeof value !== 'string' || /^-?\d+$/.test(value) || !Number.isFinite(Number(value))) continue;
        throw new HttpError(400, 'BAD_REQUEST', `${label}.${name} must be a decimal integer (digits only), got ${JSON.stringify(value)}`, `${label}.${name}`);
      }
    }
  });

  await app.register(helmet, HELMET as Parameters<typeof helmet>[1]);
  await app.register(swagger, {
    openapi: {
      info: { title: 'collab', version: '0.1.0', description: 'Movie recommendations from a collaborative-filtering model, with ratings stored in SQLite or PostgreSQL.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  const write = { onRequest: bearerAuth(options.token) };
  const security = options.token === undefined ? [] : [{ bearer: [] }];

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/health',
    { schema: { summary: 'model and database summary; 503 when this replica cannot serve (draining, or the database unreachable): a load balancer reads it', response: { 503: S.unavailableHealth } } },
    async (_req, reply) => {
      const { recommender } = model();
      if (draining) {
        // the balancer's health check sees this and stops sending before the listener closes
        void reply.status(503);
        return { status: 'draining' };
      }
      const info = recommender.info;
      const summary = { kind: info.kind, nUsers: info.nUsers, nItems: info.nItems };
      try {
        const [counts, schemaVersion] = await withDeadline(Promise.all([options.store.counts(), options.store.schemaVersion()]), limits.healthTimeoutMs, options.store.kind);
        return { status: 'ok', model: summary, db: { kind: options.store.kind, schemaVersion, ...counts } };
      } catch (err) {
        if (!(err instanceof DatabaseUnavailableError)) throw err;
        void reply.status(503).header('Retry-After', String(err.retryAfterSeconds));
        return { status: 'unavailable', model: summary, db: { kind: options.store.kind, error: { code: err.code, message: err.message } } };
      }
    },
  );

  app.get('/api/model', { schema: { summary: 'model kind, version, hyperparameters and training history' } }, async () => {
    const { recommender, version, service } = model();
    const i = recommender.info;
    // ratingScale is the data's scale (what people rate on); yRange is the model's sigmoid output range
    return { kind: i.kind, version, scoreKind: i.scoreKind ?? 'rating', config: i.config, history: i.history, nUsers: i.nUsers, nItems: i.nItems, ratingScale: service.ratingRange, ...(i.yRange ? { yRange: i.yRange } : {}) };
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

  app.get<{ Params: { id: number }; Querystring: { n: number; genre?: string; includeRated: boolean } }>(
    '/api/users/:id/recommendations',
    { schema: { summary: 'top-N for a user, with "because you liked" reasons', params: S.idParams, querystring: S.recommendQuery, response: { 200: S.recommendations, ...S.errors } } },
    async (req) => ({ userId: req.params.id, ...(await model().service.recommendForUser(req.params.id, { n: req.query.n, genre: req.query.genre, includeRated: req.query.includeRated })) }),
  );

  app.post<{ Querystring: { n: number; genre?: string; includeRated: boolean }; Body: { movieId: number; rating: number }[] }>(
    '/api/recommendations',
    {
      schema: {
        summary: 'top-N for an anonymous visitor from their ratings (fold-in, nothing stored)',
        querystring: S.recommendQuery,
        body: S.ratingsBody(range),
        response: { 200: S.recommendations, ...S.errors },
      },
    },
    async (req) => model().service.recommendForRatings(req.body, { n: req.query.n, genre: req.query.genre, includeRated: req.query.includeRated }),
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
        response: { 201: S.rated, ...S.errors, ...S.authErrors },
      },
    },
    async (req, reply) => {
      const { service, recommender } = model();
      const stored = await service.rate(req.params.id, req.body.movieId, req.body.rating);
      const title = recommender.movie(stored.movieId)?.title;
      void reply.status(201);
      return { rating: { ...stored, ...(title ? { title, displayTitle: displayTitle(title) } : {}) } };
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
    async (req) => ({ points: model().service.movieMap(req.query.limit).map((p) => ({ movieId: p.itemId, title: p.title, displayTitle: displayTitle(p.title), x: p.x, y: p.y, ratingCount: p.ratingCount })) }),
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

/** `work`, or a DATABASE_UNAVAILABLE error when it takes longer than `ms` (its result is then ignored). */
async function withDeadline<T>(work: Promise<T>, ms: number, kind: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError('DATABASE_UNAVAILABLE', `the ${kind} database did not answer within ${ms} ms`, 5)), ms);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The served model and its service (swapped by reloads; read `.current` once per request). */
    models: ModelSlot;
    /** Starts draining: /api/health answers 503 so a balancer stops sending; the caller closes the app later. */
    drain(): void;
  }
}
