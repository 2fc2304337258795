import type { Request, RequestHandler } from 'express';
import { Histogram } from 'prom-client';
import { HTTP_DURATION_BUCKETS, type MetricsRegistry } from './metrics.js';

/**
 * The route template a request matched (`/orders/:id`, never the id itself), or '' when no route
 * matched (404s, and requests answered before routing: refusals of admission control, rate limits).
 * An empty label is how Prometheus spells "absent", as semantic conventions want for an unknown route.
 */
export function routeOf(req: Request): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : '';
}

/** Methods other than these are counted as `_OTHER` (semantic conventions; bounds the label). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * `http_server_request_duration_seconds{http_request_method, http_route, http_response_status_code}`:
 * from the request's arrival at this middleware (put it first) to the last byte of the answer; an
 * answer the client walked away from is counted when its connection closes.
 */
export function httpServerMetrics(registry: MetricsRegistry): RequestHandler {
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  return (req, res, next) => {
    const end = duration.startTimer();
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      end({
        http_request_method: KNOWN_METHODS.has(req.method) ? req.method : '_OTHER',
        http_route: routeOf(req),
        http_response_status_code: String(res.statusCode),
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
