import cors from 'cors';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { healthRouter, type ReadinessChecks } from '../../../../shared/http/health-server.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import type { MetricsRegistry } from '../../../../shared/observability/metrics.js';
import { httpServerTracing } from '../../../../shared/observability/http-server-tracing.js';
import { compressResponses } from './compress-responses.js';
import { honourIfNoneMatch } from './conditional-get.js';
import { consoleRouter } from './console-router.js';
import { identify, requireAdmin, requireAuth, type TokenVerifier } from './auth.js';
import { openApiRouter } from './openapi.js';
import { adminOrdersRouter, type AdminOrdersRouterDeps } from './admin-orders-router.js';
import { ordersRouter, type OrdersRouterDeps } from './orders-router.js';
import { ProblemError, problemHandler, sendProblem } from './problem.js';
import { productsRouter } from './products-router.js';
import { requestContext } from './request-context.js';

export interface AppDeps extends OrdersRouterDeps, AdminOrdersRouterDeps {
  logger: Logger;
  readiness: ReadinessChecks;
  /** Dependencies the API works on without, with less (reported by /readyz, never failing it). */
  degradable: ReadinessChecks;
  deadLetters: express.Router;
  /** Every service's status (services-router.ts). */
  services: express.Router;
  /** Background jobs of every service (jobs-router.ts) and the payment reconciliation (reconciliation-router.ts). */
  jobs: express.Router;
  auth: TokenVerifier;
  /** Admission control for POST /orders (admission.ts); runs before the rate limit. */
  admission: RequestHandler;
  rateLimit: RequestHandler;
  /** express `trust proxy`: which proxies' X-Forwarded-For is believed; false for none. */
  trustProxy: string | false;
  /** Origins allowed by CORS; empty: CORS off (no headers). */
  corsOrigins: string[];
  requestTimeoutMs: number;
  /** Serve the operations console at /console (CONSOLE_ENABLED). @defaultValue true */
  console?: boolean;
  /** Middleware that watches every request and its answer (metrics), first in the chain. */
  observers?: RequestHandler[];
  /** Where the response byte counts go (compress-responses.ts); absent: not counted. */
  metrics?: MetricsRegistry;
  /** CACHE_PRODUCTS_TTL_MS; 0 or no cache: GET /products reads Postgres every time. */
  productsTtlMs?: number;
}

/**
 * The order API, in this order: compression (above 1 kB, br or gzip) → security headers → CORS (only when configured) → request context
 * → timeout → health probes and the console's files (no token) → token read → admission control (POST /orders only) →
 * rate limit (per customer, else per address) → OpenAPI and docs (public) → token required → body
 * (JSON only, 100 kB) → routes → problems. Before all of them, after the observers: the request's
 * trace span, so that refused requests are traced too.
 */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  honourIfNoneMatch(app);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy);
  for (const observer of deps.observers ?? []) app.use(observer);
  app.use(httpServerTracing());
  app.use(compressResponses(deps.metrics));
  app.use(helmet());
  if (deps.corsOrigins.length > 0) {
    app.use(cors({ origin: deps.corsOrigins, allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'], maxAge: 600 }));
  }
  app.use(requestContext(deps.logger));
  app.use(requestTimeout(deps.requestTimeoutMs, deps.maxWaitSeconds ?? 30));
  app.use(healthRouter(deps.readiness, deps.degradable));
  if (deps.console !== false) app.use(consoleRouter());
  app.use(identify(deps.auth));
  app.use(deps.admission);
  app.use(deps.rateLimit);
  app.use(openApiRouter());
  app.use(requireAuth);
  app.use(jsonOnly);
  app.use(express.json({ limit: '100kb', strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(productsRouter({ pool: deps.pool, ...(deps.cache ? { cache: deps.cache } : {}), productsTtlMs: deps.productsTtlMs ?? 0 }));
  app.use(ordersRouter(deps));
  app.use('/admin', requireAdmin, adminOrdersRouter(deps), deps.deadLetters, deps.jobs, deps.services);
  app.use((req, res) => sendProblem(res, 'not_found', `no route for ${req.method} ${req.path}`));
  app.use(problemHandler(deps.logger));
  return app;
}

/** A body in anything but JSON → 415, before it is read. */
const jsonOnly: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    return next(new ProblemError('unsupported_media_type', 'send the body as application/json'));
  }
  next();
};

/**
 * A request still unanswered after `ms` gets 503 request_timeout with Retry-After; its work may
 * still finish (a POST with an Idempotency-Key is safe to retry). A GET that asks to `wait` (a
 * long poll, up to `maxWaitSeconds`) gets its wait on top. Node's own `requestTimeout` (set on the
 * server) bounds how long receiving a request may take.
 */
function requestTimeout(ms: number, maxWaitSeconds: number): RequestHandler {
  return (req, res, next) => {
    const wait = req.method === 'GET' && typeof req.query.wait === 'string' ? Number(req.query.wait) : 0;
    const limit = ms + (Number.isInteger(wait) && wait > 0 ? Math.min(wait, maxWaitSeconds) * 1000 : 0);
    const timer = setTimeout(() => {
      if (!res.headersSent) sendProblem(res, 'request_timeout', `no answer within ${limit} ms`);
    }, limit);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
    next();
  };
}
