const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The order a dead letter is about: its event's `data.order_id`, else the envelope's
 * `correlation_id` (the order id too); null when the body is not a JSON event or names no order.
 * Migration dead-letters/003 reads the letters archived before it the same way.
 */
export function orderIdOf(body: Buffer): string | null {
  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(event)) return null;
  const fromData = isObject(event.data) ? event.data.order_id : undefined;
  for (const candidate of [fromData, event.correlation_id]) {
    if (typeof candidate === 'string' && UUID.test(candidate)) return candidate.toLowerCase();
  }
  return null;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
