import express from 'express';
import type { Pool } from '../../../../shared/db/pool.js';
import { isCurrency, normaliseAmount } from '../../../../shared/contracts/money.js';
import { listProducts } from '../../data-access/catalog-repository.js';
import { PRODUCTS_KEY, type CacheSpec, type ReadCache } from '../../data-access/read-cache.js';
import { etagOf, sendJson } from './conditional-get.js';

/** A response body as sent, with its ETag: what the cache keeps. */
export interface CachedBody {
  body: string;
  etag: string;
}

export interface ProductsRouterDeps {
  pool: Pool;
  /** Absent: every read goes to Postgres. */
  cache?: ReadCache;
  /** CACHE_PRODUCTS_TTL_MS; 0: not cached. */
  productsTtlMs?: number;
}

/** The catalog as GET /products answers it. */
export async function loadProductsBody(pool: Pool): Promise<CachedBody> {
  const products = await listProducts(pool);
  const body = JSON.stringify({
    data: products.map((p) => ({
      sku: p.sku,
      name: p.name,
      prices: Object.fromEntries(
        Object.entries(p.prices).map(([currency, price]) => [currency, isCurrency(currency) ? normaliseAmount(price, currency) : price]),
      ),
      available: p.available,
    })),
  });
  return { body, etag: etagOf(body) };
}

export const productsCache = (ttlMs: number): CacheSpec<CachedBody> => ({ name: 'products', ttlMs });

/**
 * GET /products: the demo catalog with prices per currency and the stock last seen from inventory.
 * Served from the read cache (dropped on every stock move, on every instance) with an ETag: a
 * client that has the catalog gets `304`.
 */
export function productsRouter(deps: ProductsRouterDeps): express.Router {
  const router = express.Router();
  const spec = productsCache(deps.productsTtlMs ?? 0);
  router.get('/products', async (req, res) => {
    const load = () => loadProductsBody(deps.pool);
    const catalog = deps.cache ? await deps.cache.read(spec, PRODUCTS_KEY, load) : await load();
    sendJson(res, catalog.body, catalog.etag);
  });
  return router;
}
