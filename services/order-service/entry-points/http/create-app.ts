import express from 'express';
import { healthRouter, type ReadinessChecks } from '../../../../shared/http/health-server.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import { ordersRouter, type OrdersRouterDeps } from './orders-router.js';
import { problemHandler, sendProblem } from './problem.js';
import { productsRouter } from './products-router.js';
import { requestContext } from './request-context.js';

/** The order API: request context → JSON body (100 kB, objects only) → routes → problem handler. */
export function createApp(
  deps: OrdersRouterDeps & { logger: Logger; readiness: ReadinessChecks; deadLetters: express.Router },
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger));
  app.use(healthRouter(deps.readiness));
  app.use(express.json({ limit: '100kb', strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(productsRouter(deps.pool));
  app.use(ordersRouter(deps));
  app.use(deps.deadLetters);
  app.use((req, res) => sendProblem(res, 'not_found', `no route for ${req.method} ${req.path}`));
  app.use(problemHandler(deps.logger));
  return app;
}
