import type { Request, RequestHandler, Response } from 'express';
import { Histogram } from 'prom-client';
import { HTTP_DURATION_BUCKETS, type MetricsRegistry } from './metrics.js';

/**
 * The route template a request matched (`/orders/:id`, never the id itself); for a request answered
 * before routing, the route a middleware named in `res.locals.route` (admission control, which only
 * guards POST /orders); else '' (404s, rate-limit refusals). An empty label is how Prometheus
 * spells "absent", as semantic conventions want for an unknown route.
 */
export function routeOf(req: Request, res: Response): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${req.baseUrl}${path}`;
  const named: unknown = res.locals.route;
  return typeof named === 'string' ? named : '';
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
        http_route: routeOf(req, res),
        http_response_status_code: String(res.statusCode),
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
