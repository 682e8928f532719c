import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** Routes whose successful answers are not logged. */
const QUIET_ROUTES = new Set(['/api/health', '/api/metrics']);

/**
 * One structured log line per answered request instead of fastify's two ("incoming request" and
 * "request completed"): method, URL, route pattern, status and latency in ms, at level info, so
 * `collab serve --log json` gives a log a collector can aggregate per route (successful health checks and
 * metrics scrapes are left out). Error logs stay fastify's.
 */
export class RequestLog extends LogController {
  /** Nothing at arrival: the completion line says everything. */
  override incomingRequest(): void {}

  /** The request's one line (an error keeps fastify's own log line). */
  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error) {
      super.requestCompleted(error, req, reply, metadata);
      return;
    }
    // a balancer asks for health every half second and a scraper for metrics: only their failures are news
    if (reply.statusCode < 400 && QUIET_ROUTES.has(req.routeOptions.url ?? '')) return;
    req.log.info({ method: req.method, url: req.url, route: req.routeOptions.url ?? null, statusCode: reply.statusCode, responseTime: Math.round(reply.elapsedTime * 1000) / 1000 }, 'request');
  }
}
