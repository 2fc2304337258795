import type { PoolClient } from '../../../shared/db/pool.js';

export interface StockLine {
  sku: string;
  quantity: number;
}

/** Locks the stock rows of `skus` in a fixed order (no deadlock between two reservations). */
export async function lockStock(client: PoolClient, skus: string[]): Promise<Map<string, number>> {
  const { rows } = await client.query<{ sku: string; available: number }>(
    'SELECT sku, available FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE',
    [skus],
  );
  return new Map(rows.map((row) => [row.sku, row.available]));
}

/** Adds `sign`·quantity to each line's stock (sign -1 reserves, +1 releases). */
export async function adjustStock(client: PoolClient, lines: StockLine[], sign: 1 | -1): Promise<void> {
  await client.query(
    `UPDATE stock SET available = stock.available + $3 * l.quantity, updated_at = now()
     FROM unnest($1::text[], $2::int[]) AS l(sku, quantity) WHERE stock.sku = l.sku`,
    [lines.map((l) => l.sku), lines.map((l) => l.quantity), sign],
  );
}

/** Inserts the catalog's stock for SKUs not known yet; existing stock is never overwritten. */
export async function seedStock(client: Pick<PoolClient, 'query'>, lines: { sku: string; stock: number }[]): Promise<void> {
  await client.query(
    `INSERT INTO stock (sku, available) SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT (sku) DO NOTHING`,
    [lines.map((l) => l.sku), lines.map((l) => l.stock)],
  );
}
