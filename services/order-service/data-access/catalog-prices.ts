import DataLoader from 'dataloader';
import type { Pool } from '../../../shared/db/pool.js';
import { findKnownSkus } from './catalog-repository.js';

/** What placing an order needs of the catalog. */
export interface CatalogLookup {
  /** Unit prices of `skus` in `currency`, by SKU; SKUs without a price there are absent. */
  prices(skus: string[], currency: string): Promise<Map<string, string>>;
  /** Which of `skus` the catalog has at all (for the refusal's wording). */
  knownSkus(skus: string[]): Promise<Set<string>>;
}

interface PriceKey {
  sku: string;
  currency: string;
}

/**
 * The catalog's prices for `POST /orders`, batched (dataloader): the look-ups of every order
 * request handled in one turn of the event loop go to Postgres as one query, whatever their
 * number, instead of one each. Read on the pool, before the order's transaction, so that a
 * transaction never waits for a connection of its own pool; prices are only ever inserted (the
 * catalog seed never overwrites), so reading them outside it changes nothing.
 *
 * Batched per turn (`setImmediate`), not dataloader's default of one microtask queue: requests
 * arrive in separate I/O callbacks of the same turn, which the default would not gather. Not
 * cached across calls (`cache: false`): a loader for the whole process would otherwise hold every
 * price forever.
 */
export class CatalogPrices implements CatalogLookup {
  private readonly loader: DataLoader<PriceKey, string | null, string>;

  constructor(
    private readonly pool: Pool,
    /** `onBatch`: told of each query and how many look-ups it answers (tests). */
    options: { onBatch?: (lookUps: number) => void } = {},
  ) {
    this.loader = new DataLoader(
      async (keys) => {
        options.onBatch?.(keys.length);
        // Without a cache dataloader hands over every look-up, repeats included: asked once each.
        const distinct = [...new Map(keys.map((key) => [`${key.currency}\u0000${key.sku}`, key])).values()];
        const { rows } = await pool.query<{ sku: string; currency: string; unit_price: string }>(
          `SELECT p.sku, p.currency, p.unit_price::text AS unit_price
           FROM product_prices p JOIN unnest($1::text[], $2::text[]) AS k(sku, currency) USING (sku, currency)`,
          [distinct.map((key) => key.sku), distinct.map((key) => key.currency)],
        );
        const found = new Map(rows.map((row) => [`${row.currency}\u0000${row.sku}`, row.unit_price]));
        return keys.map((key) => found.get(`${key.currency}\u0000${key.sku}`) ?? null);
      },
      { cache: false, cacheKeyFn: (key) => `${key.currency}\u0000${key.sku}`, batchScheduleFn: (run) => setImmediate(run), maxBatchSize: 1_000 },
    );
  }

  async prices(skus: string[], currency: string): Promise<Map<string, string>> {
    const found = await this.loader.loadMany(skus.map((sku) => ({ sku, currency })));
    const prices = new Map<string, string>();
    found.forEach((price, i) => {
      if (price instanceof Error) throw price;
      if (price !== null) prices.set(skus[i]!, price);
    });
    return prices;
  }

  knownSkus(skus: string[]): Promise<Set<string>> {
    return findKnownSkus(this.pool, skus);
  }
}
