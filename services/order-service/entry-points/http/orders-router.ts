import express, { type Request } from 'express';
import { Type } from '@sinclair/typebox';
import type { Pool } from '../../../../shared/db/pool.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import { findHistory, findLinesOfOrders, findOrder, findOrderLines, listOrders } from '../../data-access/order-repository.js';
import { cancelOrder } from '../../domain/cancel-order.js';
import { OrderNotFoundError } from '../../domain/order-errors.js';
import { placeOrder } from '../../domain/place-order.js';
import { orderView } from './order-view.js';
import { ProblemError } from './problem.js';
import { CreateOrderRequest, CustomerHeader, ListOrdersQuery } from './schemas.js';
import { validatorFor } from './validate.js';

export interface OrdersRouterDeps {
  pool: Pool;
  unitOfWork: UnitOfWork;
  sagaTimeoutMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

const checkCreate = validatorFor(CreateOrderRequest, 'order');
const checkList = validatorFor(ListOrdersQuery, 'query');
const checkCustomer = validatorFor(CustomerHeader, 'X-Customer-Id header');
const checkCursor = validatorFor(
  Type.Object({ created_at: Type.String({ format: 'date-time' }), id: Type.String({ format: 'uuid' }) }),
  'cursor',
);

/**
 * The customer the request acts for. Until authentication exists this is the `X-Customer-Id`
 * header (default `anonymous`); with it, a customer sees only its own orders.
 */
function customerOf(req: Request): string {
  return checkCustomer(req.get('x-customer-id') ?? 'anonymous');
}

export function ordersRouter(deps: OrdersRouterDeps): express.Router {
  const router = express.Router();

  router.post('/orders', async (req, res) => {
    if (!req.is('application/json')) throw new ProblemError('unsupported_media_type', 'send the order as application/json');
    const body = checkCreate(req.body);
    const customer = customerOf(req);
    const orderId = await placeOrder(
      deps.unitOfWork,
      {
        customerId: customer,
        items: body.items,
        currency: body.currency,
        paymentSource: body.payment_source,
        shippingAddress: body.shipping_address,
      },
      deps.sagaTimeoutMs,
    );
    res.locals.orderId = orderId;
    res.status(202).location(`/orders/${orderId}`).json(await loadView(deps.pool, orderId, customer));
  });

  router.get('/orders/:id', async (req, res) => {
    res.locals.orderId = req.params.id;
    res.json(await loadView(deps.pool, req.params.id, customerOf(req)));
  });

  router.get('/orders', async (req, res) => {
    const query = checkList(req.query);
    const limit = Math.min(Math.max(Number(query.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const after = query.cursor ? checkCursor(decodeCursor(query.cursor)) : undefined;
    const rows = await listOrders(deps.pool, { customerId: customerOf(req), limit: limit + 1, ...(after ? { after } : {}) });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    // One query for every order's lines, not one per order.
    const lines = await findLinesOfOrders(deps.pool, page.map((order) => order.id));
    res.json({
      data: page.map((order) => orderView(order, lines.get(order.id) ?? [], [])),
      next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
    });
  });

  router.post('/orders/:id/cancel', async (req, res) => {
    const orderId = req.params.id;
    res.locals.orderId = orderId;
    if (!UUID.test(orderId)) throw new OrderNotFoundError(`order ${orderId} not found`);
    await cancelOrder(deps.unitOfWork, orderId, customerOf(req));
    res.status(202).json(await loadView(deps.pool, orderId, customerOf(req)));
  });

  return router;
}

async function loadView(pool: Pool, orderId: string, customerId: string) {
  const order = UUID.test(orderId) ? await findOrder(pool, orderId) : null;
  // Another customer's order answers exactly like a missing one: its existence is not revealed.
  if (!order || order.customer_id !== customerId) throw new OrderNotFoundError(`order ${orderId} not found`);
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
