import express from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import { isCurrency, normaliseAmount } from '../../../../shared/contracts/money.js';
import { listProducts } from '../../data-access/catalog-repository.js';

/** GET /products: the demo catalog with prices per currency and the stock last seen from inventory. */
export function productsRouter(pool: Pool): express.Router {
  const router = express.Router();
  router.get('/products', async (_req, res) => {
    const products = await listProducts(pool);
    res.json({
      data: products.map((p) => ({
        sku: p.sku,
        name: p.name,
        prices: Object.fromEntries(
          Object.entries(p.prices).map(([currency, price]) => [currency, isCurrency(currency) ? normaliseAmount(price, currency) : price]),
        ),
        available: p.available,
      })),
    });
  });
  return router;
}
