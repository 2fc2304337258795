import type { PoolClient } from '../../../shared/db/pool.js';
import type { CatalogFile } from '../../../shared/contracts/catalog.js';
import type { Collector } from '../../../shared/db/unit-of-work.js';

type Queryable = Pick<PoolClient, 'query'>;

export interface ProductRow {
  sku: string;
  name: string;
  prices: Record<string, string>;
  available: number;
}

/** Inserts catalog products not known yet (names, prices, initial stock); never overwrites. */
export async function seedCatalog(client: Queryable, catalog: CatalogFile): Promise<void> {
  for (const product of catalog.products) {
    await client.query('INSERT INTO products (sku, name) VALUES ($1, $2) ON CONFLICT (sku) DO NOTHING', [
      product.sku,
      product.name,
    ]);
    await client.query('INSERT INTO product_stock (sku, available) VALUES ($1, $2) ON CONFLICT (sku) DO NOTHING', [
      product.sku,
      product.stock,
    ]);
    for (const [currency, price] of Object.entries(product.prices)) {
      await client.query(
        'INSERT INTO product_prices (sku, currency, unit_price) VALUES ($1, $2, $3) ON CONFLICT (sku, currency) DO NOTHING',
        [product.sku, currency, price],
      );
    }
  }
}

export async function listProducts(client: Queryable): Promise<ProductRow[]> {
  const { rows } = await client.query<ProductRow>(
    `SELECT p.sku, p.name, COALESCE(s.available, 0) AS available,
            COALESCE(jsonb_object_agg(pp.currency, pp.unit_price::text) FILTER (WHERE pp.currency IS NOT NULL), '{}') AS prices
     FROM products p LEFT JOIN product_stock s USING (sku) LEFT JOIN product_prices pp USING (sku)
     GROUP BY p.sku, p.name, s.available ORDER BY p.sku`,
  );
  return rows;
}

/** A stock movement seen in inventory's events: `sign` -1 for a reservation, 1 for a release. */
export interface StockMove {
  lines: readonly { sku: string; quantity: number }[];
  sign: 1 | -1;
}

/**
 * Applies the stock movements of a transaction's units to the read model at its end: summed per
 * SKU, the rows locked in SKU order first, then one UPDATE. These rows are shared by every order, so
 * batches committing side by side must take them in one fixed order (see Collector).
 */
export const stockMoves: Collector<StockMove> = {
  name: 'stock moves',
  async flush(client, moves) {
    const totals = new Map<string, number>();
    for (const move of moves) {
      for (const line of move.lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + move.sign * line.quantity);
    }
    const skus = [...totals.keys()].sort();
    const lock = client.query('SELECT 1 FROM product_stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE', [skus]);
    const update = client.query(
      `UPDATE product_stock SET available = product_stock.available + l.delta
       FROM unnest($1::text[], $2::int[]) AS l(sku, delta) WHERE product_stock.sku = l.sku`,
      [skus, skus.map((sku) => totals.get(sku))],
    );
    return Promise.all([lock, update]);
  },
};

/** Those of `skus` that the catalog has. */
export async function findKnownSkus(client: Queryable, skus: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ sku: string }>('SELECT sku FROM products WHERE sku = ANY($1::text[])', [skus]);
  return new Set(rows.map((row) => row.sku));
}
