import express from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import { healthRouter } from '../../../../shared/http/health-server.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import type { Faults } from '../../domain/faults.js';
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
  logger: Logger;
}

/**
 * The Stripe-like HTTP API of the mock provider. Order matters: health probes need no key; the
 * key is checked before a body is even parsed; the error handler comes last.
 */
export function createProviderApp(deps: ProviderAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(healthRouter({ postgres: async () => (await deps.pool.query('SELECT 1')).rowCount === 1 }));
  app.use(requestLog(deps.logger));
  app.use(requireApiKey(deps.apiKey));
  app.use(express.json({ limit: '100kb' }));
  const keyed = { pool: deps.pool, fingerprint: apiKeyFingerprint(deps.apiKey), faults: deps.faults, held: deps.held };
  app.use(paymentsRouter(keyed));
  app.use(refundsRouter(keyed));
  if (deps.faults) app.use(faultsRouter(deps.faults, deps.logger));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
