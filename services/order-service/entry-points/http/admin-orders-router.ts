import express from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import type { DeadLetterStore } from '../../../../shared/dead-letters/dead-letter-store.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import { listOrders } from '../../data-access/order-repository.js';
import { retriesOf } from '../../data-access/retry-repository.js';
import { cancelOrderForAdmin } from '../../domain/cancel-order.js';
import { OrderNotFoundError } from '../../domain/order-errors.js';
import type { OrderObserver } from '../../domain/order-observer.js';
import type { OrderStatus } from '../../domain/order-status.js';
import { principalOf } from './auth.js';
import { loadOrder, loadOrderView, ORDER_ID } from './load-order.js';
import { decodeCursor } from './order-cursor.js';
import { orderPage } from './order-page.js';
import { orderTimelineView } from './order-timeline-view.js';
import { AdminOrdersQuery } from './schemas.js';
import { validatorFor } from './validate.js';

export interface AdminOrdersRouterDeps {
  pool: Pool;
  unitOfWork: UnitOfWork;
  /** The dead-letter archive, where an order's timeline finds its dead letters. */
  deadLetterArchive: DeadLetterStore;
  /** Told of orders cancelled here (metrics). @defaultValue nobody */
  observer?: OrderObserver;
}

const DEFAULT_PAGE = 20;
const checkSearch = validatorFor(AdminOrdersQuery, 'query');

/**
 * Operations on any customer's orders, for admins (mounted under `/admin`, behind the admin role):
 * search, one order, its saga timeline, cancel. payment-service's reconciliation asks GET
 * /admin/orders/:id what became of an order it finds charged.
 */
export function adminOrdersRouter(deps: AdminOrdersRouterDeps): express.Router {
  const router = express.Router();

  // A search box's text `q`: an order id finds that order (and the orders of a customer whose id
  // looks like one); anything else is a customer id, matched exactly.
  router.get('/orders', async (req, res) => {
    const query = checkSearch(req.query);
    const limit = Number(query.limit ?? DEFAULT_PAGE);
    const q = query.q?.trim();
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await listOrders(deps.pool, {
      ...(q ? (ORDER_ID.test(q) ? { orderOrCustomerId: q } : { customerId: q }) : {}),
      ...(query.status ? { status: query.status as OrderStatus } : {}),
      ...(query.cancellation_reason ? { cancellationReason: query.cancellation_reason } : {}),
      ...(query.created_after ? { createdFrom: query.created_after } : {}),
      ...(query.created_before ? { createdBefore: query.created_before } : {}),
      ...(after ? { after } : {}),
      limit: limit + 1,
    });
    res.json(await orderPage(deps.pool, rows, limit));
  });

  router.get('/orders/:id', async (req, res) => {
    res.locals.orderId = req.params.id;
    res.json(await loadOrderView(deps.pool, req.params.id, null));
  });

  router.get('/orders/:id/timeline', async (req, res) => {
    res.locals.orderId = req.params.id;
    const { order, lines, history } = await loadOrder(deps.pool, req.params.id, null);
    const [letters, retries] = await Promise.all([deps.deadLetterArchive.listForOrder(order.id), retriesOf(deps.pool, order.id)]);
    res.json(orderTimelineView(order, lines, history, letters, retries));
  });

  router.post('/orders/:id/cancel', async (req, res) => {
    const orderId = req.params.id;
    const admin = principalOf(res).subject;
    res.locals.orderId = orderId;
    if (!ORDER_ID.test(orderId)) throw new OrderNotFoundError(`order ${orderId} not found`);
    const cancelled = await cancelOrderForAdmin(deps.unitOfWork, { orderId, admin }, deps.observer);
    (res.locals.logger as Logger).info(cancelled ? 'order cancelled by an admin' : 'order already cancelled; an admin asked again', {
      order_id: orderId,
      admin,
    });
    res.status(202).json(await loadOrderView(deps.pool, orderId, null));
  });

  return router;
}
