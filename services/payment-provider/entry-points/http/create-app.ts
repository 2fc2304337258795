import express, { type Request, type Response } from 'express';
import type { Static, TSchema } from '@sinclair/typebox';
import { toMinorUnits } from '../../../../shared/contracts/money.js';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import type { Pool } from '../../../../shared/db/pool.js';
import { healthRouter } from '../../../../shared/http/health-server.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import { findPayment, listPayments, listRefunds } from '../../data-access/ledger-repository.js';
import { createPayment } from '../../domain/create-payment.js';
import { createRefund } from '../../domain/create-refund.js';
import { FaultSettings, type Faults } from '../../domain/faults.js';
import { paymentObject, providerError, refundObject } from '../../domain/provider-response.js';
import { apiKeyFingerprint, requireApiKey } from './auth.js';
import { executeKeyed } from './keyed-execution.js';
import { CreatePaymentBody, CreateRefundBody } from './schemas.js';

export interface ProviderAppDeps {
  pool: Pool;
  apiKey: string;
  faults: Faults | undefined;
  logger: Logger;
}

function send(res: Response, response: { status: number; body: unknown }) {
  res.status(response.status).json(response.body);
}

/** Checks a body; on failure answers 400 the Stripe way and returns undefined. */
function checked<S extends TSchema>(schema: S) {
  const check = compileValidator(schema);
  return (req: Request, res: Response): Static<S> | undefined => {
    const result = check(req.body);
    if (result.ok) return result.value;
    const issue = result.issues[0];
    const param = issue?.path.split('/').filter(Boolean)[0];
    send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', `Invalid request: ${issue?.path} ${issue?.message}`, param ? { param } : {}));
    return undefined;
  };
}

const checkPayment = checked(CreatePaymentBody);
const checkRefund = checked(CreateRefundBody);
const checkFaults = checked(FaultSettings);
const limitOf = (value: unknown) => Math.min(Math.max(Number(value) || 10, 1), 100);
const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The Stripe-like HTTP API of the mock provider. */
export function createProviderApp(deps: ProviderAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(healthRouter({ postgres: async () => (await deps.pool.query('SELECT 1')).rowCount === 1 }));
  app.use(requireApiKey(deps.apiKey));
  app.use(express.json({ limit: '100kb' }));
  const keyed = { pool: deps.pool, fingerprint: apiKeyFingerprint(deps.apiKey), faults: deps.faults };

  app.post('/payments/create', async (req, res) => {
    const body = checkPayment(req, res);
    if (!body) return;
    let minor: bigint;
    try {
      minor = toMinorUnits(body.amount, body.currency);
    } catch (error) {
      return send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', (error as Error).message, { param: 'amount' }));
    }
    if (minor <= 0n) return send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', 'Amount must be positive.', { param: 'amount' }));
    await executeKeyed(keyed, 'payments', req, res, (client) =>
      createPayment(client, { ...body, description: body.description ?? null, order_id: body.order_id ?? null }),
    );
  });

  app.get('/payments/:id', async (req, res) => {
    const payment = await findPayment(deps.pool, req.params.id);
    if (!payment) return send(res, providerError(404, 'invalid_request_error', 'resource_missing', `No such payment: ${req.params.id}`));
    res.json(paymentObject(payment));
  });

  app.get('/payments', async (req, res) => {
    const limit = limitOf(req.query.limit);
    const after = text(req.query.starting_after);
    const startingAfter = after ? await findPayment(deps.pool, after) : undefined;
    const customer = text(req.query.customer);
    const orderId = text(req.query.order_id);
    const rows = await listPayments(deps.pool, {
      limit: limit + 1,
      ...(customer ? { customer } : {}),
      ...(orderId ? { orderId } : {}),
      ...(startingAfter ? { startingAfter } : {}),
    });
    res.json({ object: 'list', data: rows.slice(0, limit).map(paymentObject), has_more: rows.length > limit });
  });

  app.post('/refunds', async (req, res) => {
    const body = checkRefund(req, res);
    if (!body) return;
    await executeKeyed(keyed, 'refunds', req, res, (client) => createRefund(client, body));
  });

  app.get('/refunds', async (req, res) => {
    const rows = await listRefunds(deps.pool, text(req.query.payment), limitOf(req.query.limit));
    res.json({ object: 'list', data: rows.map(refundObject), has_more: false });
  });

  if (deps.faults) {
    const faults = deps.faults;
    app.get('/_faults', (_req, res) => res.json(faults.current));
    app.put('/_faults', (req, res) => {
      const settings = checkFaults(req, res);
      if (!settings) return;
      faults.set(settings);
      deps.logger.warn('fault injection changed', { faults: settings });
      res.json(faults.current);
    });
  }

  app.use((_req: Request, res: Response) => send(res, providerError(404, 'invalid_request_error', 'resource_missing', 'Unrecognized request URL.')));
  app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', 'Malformed JSON body.'));
    if (type === 'entity.too.large') return send(res, providerError(413, 'invalid_request_error', 'body_too_large', 'Body too large.'));
    deps.logger.error('provider request failed', { error });
    send(res, providerError(500, 'api_error', 'internal_error', 'An internal error occurred.'));
  });
  return app;
}
