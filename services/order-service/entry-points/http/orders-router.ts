import express, { type Request, type Response } from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import { listOrders } from '../../data-access/order-repository.js';
import { cancelOrder } from '../../domain/cancel-order.js';
import { OrderNotFoundError } from '../../domain/order-errors.js';
import type { OrderObserver } from '../../domain/order-observer.js';
import { placeOrder } from '../../domain/place-order.js';
import { replayOnlyRefusal } from './admission.js';
import { ProblemError } from './problem.js';
import { loadOrderView, ORDER_ID } from './load-order.js';
import { decodeCursor } from './order-cursor.js';
import { orderPage } from './order-page.js';
import { orderView } from './order-view.js';
import { principalOf } from './auth.js';
import { idempotencyKeyOf, sha256, type IdempotencyStore, type StoredResponse } from './idempotency.js';
import type { CatalogLookup } from '../../data-access/catalog-prices.js';
import { orderKey, type CacheSpec, type ReadCache } from '../../data-access/read-cache.js';
import type { OrderWaits } from '../../data-access/order-waits.js';
import { etagOf, ifNoneMatch, matchesAny, sendJson } from './conditional-get.js';
import { CreateOrderRequest, ListOrdersQuery, OrderQuery } from './schemas.js';
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
  /** The catalog's prices for new orders (batched: CatalogPrices). */
  catalog: CatalogLookup;
  /** Told of orders placed and cancelled here (metrics). @defaultValue nobody */
  observer?: OrderObserver;
  /** The read cache (orders that ended); absent: every read goes to Postgres. */
  cache?: ReadCache;
  /** CACHE_ORDERS_TTL_MS; 0: not cached. */
  ordersTtlMs?: number;
  /** Clients waiting for an order's next change (`?wait=`); absent: `wait` is refused. */
  waits?: OrderWaits;
  /** Longest `wait`, seconds. @defaultValue 30 */
  maxWaitSeconds?: number;
}

/** An order as GET /orders/:id answers it, with what the route checks before answering. */
interface OrderBody {
  body: string;
  etag: string;
  customerId: string;
  status: string;
}

const ENDED = new Set(['completed', 'cancelled']);

/**
 * Orders that ended are cached: they change seldom (a refund or a release after a cancellation),
 * and each change drops them. One still running changes with every step and is read from Postgres.
 */
export const ordersCache = (ttlMs: number): CacheSpec<OrderBody> => ({ name: 'orders', ttlMs, cacheable: (order) => ENDED.has(order.status) });

const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

const checkCreate = validatorFor(CreateOrderRequest, 'order');
const checkList = validatorFor(ListOrdersQuery, 'query');
const checkOrderQuery = validatorFor(OrderQuery, 'query');

/** The customer the request acts for: the token's subject. */
const customerOf = (res: Response): string => principalOf(res).subject;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): StoredResponse => ({
  status,
  headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export function ordersRouter(deps: OrdersRouterDeps): express.Router {
  const router = express.Router();
  const spec = ordersCache(deps.ordersTtlMs ?? 0);
  const maxWait = deps.maxWaitSeconds ?? 30;

  /** The order, whoever's it is (the caller checks); from Postgres. */
  const load = async (orderId: string): Promise<OrderBody> => {
    const view = await loadOrderView(deps.pool, orderId, null);
    const body = JSON.stringify(view);
    return { body, etag: etagOf(body), customerId: view.customer_id, status: view.status };
  };
  /** The customer's order, through the cache; another customer's answers as a missing one. */
  const read = async (orderId: string, customer: string, fresh = false): Promise<OrderBody> => {
    if (!ORDER_ID.test(orderId)) throw new OrderNotFoundError(`order ${orderId} not found`);
    const order = deps.cache && !fresh ? await deps.cache.read(spec, orderKey(orderId), () => load(orderId)) : await load(orderId);
    if (order.customerId !== customer) throw new OrderNotFoundError(`order ${orderId} not found`);
    return order;
  };

  router.post('/orders', async (req, res) => {
    const customer = customerOf(res);
    const key = idempotencyKeyOf(req, true) as string;
    const body = checkCreate(req.body);
    // Refused by admission control but known to the idempotency records: answered from them only.
    const refusal = replayOnlyRefusal(res.locals);
    await deps.idempotency.run(req, res, { customer, key }, async (requestHash) => {
      const placed = await placeOrder(
        deps.placements ?? deps.unitOfWork,
        deps.catalog,
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
    const orderId = req.params.id;
    res.locals.orderId = orderId;
    const query = checkOrderQuery(req.query);
    if (query.wait === undefined) {
      const order = await read(orderId, customerOf(res));
      return sendJson(res, order.body, order.etag);
    }
    const seconds = Number(query.wait);
    if (!deps.waits || seconds < 1 || seconds > maxWait) {
      throw new ProblemError('validation_error', `wait must be 1 to ${maxWait} seconds`, { errors: [{ path: '/wait', message: `must be 1 to ${maxWait}` }] });
    }
    await waitForChange(req, res, deps.waits, (fresh) => read(orderId, customerOf(res), fresh), orderId, seconds * 1000);
  });

  router.get('/orders', async (req, res) => {
    const query = checkList(req.query);
    const limit = Math.min(Math.max(Number(query.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await listOrders(deps.pool, { customerId: customerOf(res), limit: limit + 1, ...(after ? { after } : {}) });
    sendJson(res, JSON.stringify(await orderPage(deps.pool, rows, limit)));
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

/**
 * A long poll: answers as soon as the order differs from what the client has (its If-None-Match,
 * or else what it was when the request came), whichever instance changed it; else, when `ms` is
 * up, `304` (with If-None-Match) or the order as it is. The wait is registered before each read,
 * so a change committed between the read and the wait still wakes it. Reads after the first come
 * from Postgres: the change that woke the wait may not have reached the cache's drop yet. When
 * the service stops, the client is answered at once with what is there.
 */
async function waitForChange(
  req: Request,
  res: Response,
  waits: OrderWaits,
  read: (fresh: boolean) => Promise<OrderBody>,
  orderId: string,
  ms: number,
): Promise<void> {
  const given = ifNoneMatch(req);
  const deadline = Date.now() + ms;
  const gone = new Promise<void>((resolve) => res.once('close', resolve));
  let baseline: string | undefined;
  let closing = false;
  for (let round = 0; ; round += 1) {
    const wait = waits.next(orderId);
    try {
      const order = await read(round > 0);
      baseline ??= order.etag;
      const unchanged = given ? matchesAny(given, order.etag) : order.etag === baseline;
      const remaining = deadline - Date.now();
      if (!unchanged || remaining <= 0 || closing) return sendJson(res, order.body, order.etag);
      let timer: NodeJS.Timeout | undefined;
      const woke = await Promise.race([wait.changed, gone.then(() => 'gone' as const), new Promise<'time'>((resolve) => (timer = setTimeout(() => resolve('time'), remaining)))]);
      clearTimeout(timer);
      if (woke === 'gone') return; // the client left
      closing = woke === 'closing';
    } finally {
      wait.cancel();
    }
  }
}
