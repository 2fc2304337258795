import express, { type RequestHandler } from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import { healthRouter } from '../../../../shared/http/health-server.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import { httpServerTracing } from '../../../../shared/observability/http-server-tracing.js';
import { CallGauge, type FaultRoute, type Faults } from '../../domain/faults.js';
import { apiKeyFingerprint, requireApiKey } from './auth.js';
import { errorHandler, notFound } from './error-handler.js';
import { faultsRouter } from './faults-router.js';
import type { HeldResponses } from './held-responses.js';
import { paymentsRouter } from './payments-router.js';
import { refundsRouter } from './refunds-router.js';
import { requestLog } from './request-log.js';

export interface ProviderAppDeps {
  pool: Pool;
  apiKey: string;
  /** Present only when fault injection is enabled. */
  faults: Faults | undefined;
  /** Where faulted requests left unanswered are kept, so that stop() can drop them. */
  held: HeldResponses;
  /** How long an Idempotency-Key's record is kept (IDEMPOTENCY_TTL_S). */
  keyTtlSeconds: number;
  logger: Logger;
  /** Middleware that watches every request and its answer (metrics), first in the chain. */
  observers?: RequestHandler[];
}

/**
 * The Stripe-like HTTP API of the mock provider. Order matters: health probes need no key; the
 * key is checked before a body is even parsed; the error handler comes last.
 */
export function createProviderApp(deps: ProviderAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  for (const observer of deps.observers ?? []) app.use(observer);
  app.use(httpServerTracing());
  app.use(healthRouter({ postgres: async () => (await deps.pool.query('SELECT 1')).rowCount === 1 }));
  app.use(requestLog(deps.logger));
  app.use(requireApiKey(deps.apiKey));
  const gauge = new CallGauge();
  if (deps.faults) {
    const faults = deps.faults;
    app.use((req, res, next) => {
      if (req.path.startsWith('/_faults')) return next();
      gauge.track((listener) => res.once('close', listener), () => res.writableFinished);
      // A slow provider is slow to read as well as to write: the latency fault delays every request
      // of the matched routes. A write whose client gave up meanwhile is still performed afterwards,
      // as a real server would.
      const route = routeOf(req.path);
      const latency = route ? faults.for(route).latency_ms : undefined;
      if (latency) setTimeout(next, latency);
      else next();
    });
  }
  app.use(express.json({ limit: '100kb' }));
  const keyed = { pool: deps.pool, fingerprint: apiKeyFingerprint(deps.apiKey), faults: deps.faults, held: deps.held, keyTtlSeconds: deps.keyTtlSeconds };
  app.use(paymentsRouter(keyed));
  app.use(refundsRouter(keyed));
  if (deps.faults) app.use(faultsRouter(deps.faults, gauge, deps.logger));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}

function routeOf(path: string): FaultRoute | undefined {
  if (path.startsWith('/payments')) return 'payments';
  if (path.startsWith('/refunds')) return 'refunds';
  return undefined;
}
