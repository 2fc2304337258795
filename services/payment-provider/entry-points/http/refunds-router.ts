import express from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import { findRefund, listRefunds } from '../../data-access/ledger-repository.js';
import { createRefund } from '../../domain/create-refund.js';
import { providerError, refundObject } from '../../domain/provider-response.js';
import { bodyChecker } from './body-validation.js';
import { send } from './error-handler.js';
import { executeKeyed, type KeyedExecutionDeps } from './keyed-execution.js';
import { readListQuery } from './list-query.js';
import { CreateRefundBody } from './schemas.js';

const checkRefund = bodyChecker(CreateRefundBody);

/** POST /refunds, GET /refunds. */
export function refundsRouter(deps: KeyedExecutionDeps & { pool: Pool }): express.Router {
  const router = express.Router();

  router.post('/refunds', async (req, res) => {
    const checked = checkRefund(req.body);
    if (!checked.ok) return send(res, checked.response);
    await executeKeyed(deps, 'refunds', req, res, (client) => createRefund(client, checked.value));
  });

  router.get('/refunds', async (req, res) => {
    const query = readListQuery(req.query, ['payment']);
    if (!query.ok) return send(res, query.response);
    const { limit, startingAfter, filters } = query.value;
    if (startingAfter !== undefined && !(await findRefund(deps.pool, startingAfter))) {
      return send(res, providerError(400, 'invalid_request_error', 'resource_missing', `No such refund: '${startingAfter}'`, { param: 'starting_after' }));
    }
    const rows = await listRefunds(deps.pool, {
      limit: limit + 1,
      ...(filters.payment === undefined ? {} : { payment: filters.payment }),
      ...(startingAfter === undefined ? {} : { startingAfter }),
    });
    res.json({ object: 'list', data: rows.slice(0, limit).map(refundObject), has_more: rows.length > limit });
  });

  return router;
}
