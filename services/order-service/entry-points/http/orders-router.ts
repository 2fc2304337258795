import express, { type Response } from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import { listOrders } from '../../data-access/order-repository.js';
import { cancelOrder } from '../../domain/cancel-order.js';
import { OrderNotFoundError } from '../../domain/order-errors.js';
import type { OrderObserver } from '../../domain/order-observer.js';
import { placeOrder } from '../../domain/place-order.js';
import { replayOnlyRefusal } from './admission.js';
import { loadOrderView, ORDER_ID } from './load-order.js';
import { decodeCursor } from './order-cursor.js';
import { orderPage } from './order-page.js';
import { orderView } from './order-view.js';
import { principalOf } from './auth.js';
import { idempotencyKeyOf, sha256, type IdempotencyStore, type StoredResponse } from './idempotency.js';
import { CreateOrderRequest, ListOrdersQuery } from './schemas.js';
import { validatorFor } from './validate.js';

export interface OrdersRouterDeps {
  pool: Pool;
  unitOfWork: UnitOfWork;
  /**
   * For placing orders: a group-committing unit of work, so that requests arriving together are
   * written in one transaction (see UnitOfWork). @defaultValue unitOfWork
   */
  placements?: UnitOfWork;
  sagaTimeoutMs: number;
  idempotency: IdempotencyStore;
  /** Told of orders placed and cancelled here (metrics). @defaultValue nobody */
  observer?: OrderObserver;
}

const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

const checkCreate = validatorFor(CreateOrderRequest, 'order');
const checkList = validatorFor(ListOrdersQuery, 'query');

/** The customer the request acts for: the token's subject. */
const customerOf = (res: Response): string => principalOf(res).subject;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): StoredResponse => ({
  status,
  headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export function ordersRouter(deps: OrdersRouterDeps): express.Router {
  const router = express.Router();

  router.post('/orders', async (req, res) => {
    const customer = customerOf(res);
    const key = idempotencyKeyOf(req, true) as string;
    const body = checkCreate(req.body);
    // Refused by admission control but known to the idempotency records: answered from them only.
    const refusal = replayOnlyRefusal(res.locals);
    await deps.idempotency.run(req, res, { customer, key }, async (requestHash) => {
      const placed = await placeOrder(
        deps.placements ?? deps.unitOfWork,
        {
          customerId: customer,
          items: body.items,
          currency: body.currency,
          paymentSource: body.payment_source,
          shippingAddress: body.shipping_address,
          idempotency: { keyHash: sha256(key), requestHash },
        },
        deps.sagaTimeoutMs,
      );
      res.locals.orderId = placed.orderId;
      if (placed.created) deps.observer?.placed();
      // A new order is answered as written; one placed earlier under this key, as it is now.
      const view = placed.created
        ? orderView(placed.order, placed.lines, placed.history)
        : await loadOrderView(deps.pool, placed.orderId, customer);
      // Not created: the orders table already had this key (Redis had lost its record).
      return json(202, view, { Location: `/orders/${placed.orderId}`, ...(placed.created ? {} : { 'Idempotent-Replayed': 'true' }) });
    }, refusal ? { replayOnly: refusal } : {});
  });

  router.get('/orders/:id', async (req, res) => {
    res.locals.orderId = req.params.id;
    res.json(await loadOrderView(deps.pool, req.params.id, customerOf(res)));
  });

  router.get('/orders', async (req, res) => {
    const query = checkList(req.query);
    const limit = Math.min(Math.max(Number(query.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await listOrders(deps.pool, { customerId: customerOf(res), limit: limit + 1, ...(after ? { after } : {}) });
    res.json(await orderPage(deps.pool, rows, limit));
  });

  router.post('/orders/:id/cancel', async (req, res) => {
    const orderId = req.params.id;
    const customer = customerOf(res);
    res.locals.orderId = orderId;
    if (!ORDER_ID.test(orderId)) throw new OrderNotFoundError(`order ${orderId} not found`);
    const cancel = async () => {
      await cancelOrder(deps.unitOfWork, orderId, customer, deps.observer);
      return json(202, await loadOrderView(deps.pool, orderId, customer));
    };
    await deps.idempotency.runIfKeyed(req, res, customer, cancel);
  });

  return router;
}
