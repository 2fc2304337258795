import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { DecimalAmount } from './money.js';
import { Sku } from './common-schemas.js';
import { compileValidator } from './validator.js';

export const CatalogFile = Type.Object({
  products: Type.Array(
    Type.Object({
      sku: Sku,
      name: Type.String({ minLength: 1 }),
      prices: Type.Record(Type.String({ pattern: '^[A-Z]{3}$' }), DecimalAmount),
      stock: Type.Integer({ minimum: 0 }),
    }),
  ),
});
export type CatalogFile = Static<typeof CatalogFile>;

const checkCatalog = compileValidator(CatalogFile);

/**
 * Reads the demo catalog (infra/seed/catalog.json) that order-service (names, prices) and
 * inventory-service (initial stock) seed their own tables from.
 */
export function readCatalog(path: string): CatalogFile {
  const result = checkCatalog(JSON.parse(readFileSync(path, 'utf8')));
  if (!result.ok) throw new Error(`invalid catalog ${path}: ${JSON.stringify(result.issues)}`);
  return result.value;
}
