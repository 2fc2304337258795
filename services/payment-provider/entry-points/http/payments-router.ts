import express from 'express';
import { toMinorUnits } from '../../../../shared/contracts/money.js';
import type { Pool } from '../../../../shared/db/pool.js';
import { findPayment, listPayments } from '../../data-access/ledger-repository.js';
import { createPayment } from '../../domain/create-payment.js';
import { paymentObject, providerError } from '../../domain/provider-response.js';
import { bodyChecker } from './body-validation.js';
import { send } from './error-handler.js';
import { executeKeyed, type KeyedExecutionDeps } from './keyed-execution.js';
import { readListQuery } from './list-query.js';
import { CreatePaymentBody } from './schemas.js';

const checkPayment = bodyChecker(CreatePaymentBody);

const missingPayment = (id: string, param?: string) =>
  providerError(param ? 400 : 404, 'invalid_request_error', 'resource_missing', `No such payment: '${id}'`, param ? { param } : {});

/** POST /payments/create, GET /payments/:id, GET /payments. */
export function paymentsRouter(deps: KeyedExecutionDeps & { pool: Pool }): express.Router {
  const router = express.Router();

  router.post('/payments/create', async (req, res) => {
    const checked = checkPayment(req.body);
    if (!checked.ok) return send(res, checked.response);
    const body = checked.value;
    let minor: bigint;
    try {
      minor = toMinorUnits(body.amount, body.currency);
    } catch (error) {
      return send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', `Invalid amount: ${(error as Error).message}.`, { param: 'amount' }));
    }
    if (minor <= 0n) {
      return send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid amount: must be greater than 0.', { param: 'amount' }));
    }
    await executeKeyed(deps, 'payments', req, res, (client) =>
      createPayment(client, { ...body, description: body.description ?? null, order_id: body.order_id ?? null }),
    );
  });

  router.get('/payments/:id', async (req, res) => {
    const payment = await findPayment(deps.pool, req.params.id);
    if (!payment) return send(res, missingPayment(req.params.id));
    res.json(paymentObject(payment));
  });

  router.get('/payments', async (req, res) => {
    const query = readListQuery(req.query, ['customer', 'order_id']);
    if (!query.ok) return send(res, query.response);
    const { limit, startingAfter, filters } = query.value;
    if (startingAfter !== undefined && !(await findPayment(deps.pool, startingAfter))) {
      return send(res, missingPayment(startingAfter, 'starting_after'));
    }
    const rows = await listPayments(deps.pool, {
      limit: limit + 1,
      ...(filters.customer === undefined ? {} : { customer: filters.customer }),
      ...(filters.order_id === undefined ? {} : { orderId: filters.order_id }),
      ...(startingAfter === undefined ? {} : { startingAfter }),
    });
    res.json({ object: 'list', data: rows.slice(0, limit).map(paymentObject), has_more: rows.length > limit });
  });

  return router;
}
