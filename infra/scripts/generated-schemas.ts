import { eventJsonSchemas } from '../../shared/contracts/events.js';
import { CreateOrderRequest, OrderResponse } from '../../services/order-service/entry-points/http/schemas.js';

/** Every published schema by file name, as plain JSON (TypeBox symbols dropped). */
export function generatedSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    'api.create-order-request': CreateOrderRequest,
    'api.order': OrderResponse,
  };
  for (const [type, schema] of Object.entries(eventJsonSchemas())) schemas[`event.${type}`] = schema;
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [
      name,
      { $schema: 'https://json-schema.org/draft/2020-12/schema', title: name, ...JSON.parse(JSON.stringify(schema)) },
    ]),
  );
}
