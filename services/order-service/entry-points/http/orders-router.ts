import express, { type Response } from 'express';
import { Type } from '@sinclair/typebox';
import type { Pool } from '../../../../shared/db/pool.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import { findHistory, findLinesOfOrders, findOrder, findOrderLines, listOrders } from '../../data-access/order-repository.js';
import { cancelOrder } from '../../domain/cancel-order.js';
import { OrderNotFoundError } from '../../domain/order-errors.js';
import type { OrderObserver } from '../../domain/order-observer.js';
import { placeOrder } from '../../domain/place-order.js';
import { replayOnlyRefusal } from './admission.js';
import { orderSummaryView, orderView } from './order-view.js';
import { ProblemError } from './problem.js';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

const checkCreate = validatorFor(CreateOrderRequest, 'order');
const checkList = validatorFor(ListOrdersQuery, 'query');
// Exactly what encodeCursor writes (toISOString of a Postgres timestamp, a plain UUID): the looser
// `date-time` and `uuid` formats also pass year 0000, offsets past year 9999 and `urn:uuid:` ids,
// which Postgres refuses (a 500 instead of a 400).
const checkCursor = validatorFor(
  Type.Object({
    created_at: Type.String({ format: 'date-time', pattern: '^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' }),
    id: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
  }),
  'cursor',
);

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
        : await loadView(deps.pool, placed.orderId, customer);
      // Not created: the orders table already had this key (Redis had lost its record).
      return json(202, view, { Location: `/orders/${placed.orderId}`, ...(placed.created ? {} : { 'Idempotent-Replayed': 'true' }) });
    }, refusal ? { replayOnly: refusal } : {});
  });

  router.get('/orders/:id', async (req, res) => {
    res.locals.orderId = req.params.id;
    res.json(await loadView(deps.pool, req.params.id, customerOf(res)));
  });

  router.get('/orders', async (req, res) => {
    const query = checkList(req.query);
    const limit = Math.min(Math.max(Number(query.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const after = query.cursor ? checkCursor(decodeCursor(query.cursor)) : undefined;
    const rows = await listOrders(deps.pool, { customerId: customerOf(res), limit: limit + 1, ...(after ? { after } : {}) });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    // One query for every order's lines, not one per order.
    const lines = await findLinesOfOrders(deps.pool, page.map((order) => order.id));
    res.json({
      data: page.map((order) => orderSummaryView(order, lines.get(order.id) ?? [])),
      next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
    });
  });

  router.post('/orders/:id/cancel', async (req, res) => {
    const orderId = req.params.id;
    const customer = customerOf(res);
    res.locals.orderId = orderId;
    if (!UUID.test(orderId)) throw new OrderNotFoundError(`order ${orderId} not found`);
    const cancel = async () => {
      await cancelOrder(deps.unitOfWork, orderId, customer, deps.observer);
      return json(202, await loadView(deps.pool, orderId, customer));
    };
    await deps.idempotency.runIfKeyed(req, res, customer, cancel);
  });

  return router;
}

/**
 * Operations: any customer's order, for admins (mounted under `/admin`, behind the admin role).
 * payment-service's reconciliation asks it what became of an order it finds charged.
 */
export function adminOrdersRouter(pool: Pool): express.Router {
  const router = express.Router();
  router.get('/orders/:id', async (req, res) => {
    res.locals.orderId = req.params.id;
    res.json(await loadView(pool, req.params.id, null));
  });
  return router;
}

/** The order's view; `customerId` null: whoever's it is (admins). */
async function loadView(pool: Pool, orderId: string, customerId: string | null) {
  const order = UUID.test(orderId) ? await findOrder(pool, orderId) : null;
  // Another customer's order answers exactly like a missing one: its existence is not revealed.
  if (!order || (customerId !== null && order.customer_id !== customerId)) throw new OrderNotFoundError(`order ${orderId} not found`);
  const [lines, history] = await Promise.all([findOrderLines(pool, orderId), findHistory(pool, orderId)]);
  return orderView(order, lines, history);
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify({ created_at: createdAt.toISOString(), id })).toString('base64url');
}

function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ProblemError('validation_error', 'invalid cursor');
  }
}
