import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogPrices } from '../../services/order-service/data-access/catalog-prices.js';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { createLogger } from '../../shared/logging/logger.js';
import { OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';

/**
 * The catalog look-ups of POST /orders, batched with dataloader: the look-ups of the orders placed
 * together in one transaction are one query in it, against the catalog order-service seeded.
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let stack: TestStack;
let pool: Pool;

beforeAll(async () => {
  stack = await TestStack.start({}, { services: ['payment-provider', 'order-service'] });
  pool = createPool({ connectionString: DATABASE_URL, schema: `${stack.namespace}order_service`, max: 2, logger: createLogger({ service: 'prices-test', level: 'silent' }) });
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await stack?.stop();
});

describe.skipIf(EXTERNAL_STACK)('catalog prices for new orders', () => {
  it('when 50 orders of one transaction look prices up as they start, then one query answers them all, each with its own prices', async () => {
    const batches: number[] = [];
    const catalog = new CatalogPrices({ onBatch: (lookUps) => batches.push(lookUps) });
    // Fifty units of one batch, started side by side in one tick as the unit of work starts them.
    const tx = { client: pool };
    const asks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => catalog.prices(tx, i % 2 === 0 ? ['MUG-LOGO', 'BOOK-SAGAS'] : ['MUG-LOGO', 'NO-SUCH-SKU'], i % 3 === 0 ? 'EUR' : 'USD')),
    );
    // One query, for the six (SKU, currency) pairs among the hundred look-ups.
    expect(batches).toEqual([6]);
    const { rows } = await pool.query<{ sku: string; currency: string; unit_price: string }>(
      `SELECT sku, currency, unit_price::text AS unit_price FROM product_prices WHERE sku IN ('MUG-LOGO', 'BOOK-SAGAS')`,
    );
    const price = (sku: string, currency: string) => rows.find((r) => r.sku === sku && r.currency === currency)?.unit_price;
    asks.forEach((answer, i) => {
      const currency = i % 3 === 0 ? 'EUR' : 'USD';
      const expected = new Map<string, string>();
      for (const sku of i % 2 === 0 ? ['MUG-LOGO', 'BOOK-SAGAS'] : ['MUG-LOGO']) if (price(sku, currency)) expected.set(sku, price(sku, currency)!);
      expect(answer, `request ${i}`).toEqual(expected);
    });
    expect(asks[1]!.has('NO-SUCH-SKU')).toBe(false);
  });

  it('when two transactions look the same price up, then each asks in its own transaction', async () => {
    const batches: number[] = [];
    const catalog = new CatalogPrices({ onBatch: (lookUps) => batches.push(lookUps) });
    await Promise.all([catalog.prices({ client: pool }, ['MUG-LOGO'], 'USD'), catalog.prices({ client: pool }, ['MUG-LOGO'], 'USD')]);
    expect(batches).toEqual([1, 1]);
  });

  it('when orders are placed together, then each is priced from the catalog and an unknown SKU is still refused by name', async () => {
    const api = new OrderApi(stack, 'cus_prices');
    const placed = await Promise.all(Array.from({ length: 20 }, () => api.place(orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 3 }] }))));
    const { rows } = await pool.query<{ unit_price: string }>(`SELECT unit_price::text AS unit_price FROM product_prices WHERE sku = 'MUG-LOGO' AND currency = 'USD'`);
    const expected = (Number(rows[0]!.unit_price) * 3).toFixed(2);
    expect(new Set(placed.map((order) => order.total))).toEqual(new Set([expected]));
    const refused = await api.request('POST', '/orders', orderBody({ items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] }));
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ type: 'urn:order-platform:problem:unknown_sku', skus: ['NO-SUCH-SKU'] });
  });
});
