import { randomUUID } from 'node:crypto';
import { ADDRESS } from '../support/order-api.js';
import { authHeader } from '../support/tokens.js';

/** The customer every order of the load is placed for. */
export const LOAD_CUSTOMER = 'cus_load';

export type OrderKind = 'success' | 'declined' | 'out_of_stock' | 'shipping_failure';

export interface PlacedOrder {
  id: string;
  kind: OrderKind;
  sku: string;
  quantity: number;
}

export interface LoadResult {
  sent: number;
  accepted: PlacedOrder[];
  /**
   * Orders whose client gave up while admission control refused them (its last answer a 503
   * overloaded): not taken, nothing of them written, never lost. Invariant 3's check that no order
   * exists that no client was answered with covers them.
   */
  rejected: number;
  /** Every status the API answered, by code; network failures under 'network'. */
  statuses: Record<string, number>;
  /** 5xx answers that were not a declared 503 with Retry-After (invariant 7). */
  undeclared5xx: number;
}

const MIX: { kind: OrderKind; weight: number }[] = [
  { kind: 'success', weight: 6 },
  { kind: 'declined', weight: 2 },
  { kind: 'out_of_stock', weight: 1 },
  { kind: 'shipping_failure', weight: 1 },
];

function bodyFor(kind: OrderKind): { body: object; sku: string; quantity: number } {
  const sku = kind === 'out_of_stock' ? 'POSTER-LTD' : 'STICKER-PACK';
  const quantity = kind === 'out_of_stock' ? 4 : 1; // POSTER-LTD has 3: always rejected
  return {
    sku,
    quantity,
    body: {
      items: [{ sku, quantity }],
      currency: 'USD',
      payment_source: kind === 'declined' ? 'tok_chargeDeclined' : 'tok_visa',
      shipping_address: kind === 'shipping_failure' ? { ...ADDRESS, country: 'AQ' } : ADDRESS,
    },
  };
}

export function emptyLoadResult(): LoadResult {
  return { sent: 0, accepted: [], rejected: 0, statuses: {}, undeclared5xx: 0 };
}

/** Client retries of one order: 8 tries over about 9 s (200 ms doubling, at most 2 s apart). */
const ATTEMPTS = 8;
const retryDelayMs = (attempt: number) => Math.min(2_000, 200 * 2 ** (attempt - 1));

/**
 * Open-loop load: `rate` orders a second for `durationMs`, a mix of successes, declines,
 * out-of-stock and shipping failures. A request that failed or may not have run (network error,
 * 5xx, 409 while the same key still runs) is retried by the client with the same Idempotency-Key,
 * the way a careful client would, so that an order taken just before a crash is answered on a
 * retry instead of being left unknown to its client; every request is bounded by a 5 s timeout.
 * A 503 overloaded (admission control) is retried on the same schedule, sooner than its
 * Retry-After asks (the load would otherwise outlast the scenario by minutes); an order still
 * refused after the last try counts as rejected, not lost.
 */
export async function runLoad(
  api: string,
  options: { rate: number; durationMs: number; /** Filled as the load runs, so a test can wait on it. */ progress?: LoadResult },
): Promise<LoadResult> {
  const result: LoadResult = options.progress ?? emptyLoadResult();
  const weights = MIX.flatMap((m) => Array<OrderKind>(m.weight).fill(m.kind));
  const pending: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; Date.now() - started < options.durationMs; i += 1) {
    const kind = weights[i % weights.length] as OrderKind;
    pending.push(placeWithRetries(api, kind, result));
    const next = started + ((i + 1) * 1000) / options.rate;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  await Promise.all(pending);
  return result;
}

async function placeWithRetries(api: string, kind: OrderKind, result: LoadResult): Promise<void> {
  const { body, sku, quantity } = bodyFor(kind);
  // One key per order, the same on every retry of it.
  const idempotencyKey = randomUUID();
  result.sent += 1;
  let refused = false;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    refused = false;
    try {
      const response = await fetch(`${api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await authHeader(LOAD_CUSTOMER)), 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });
      result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
      if (response.status >= 500 && !(response.status === 503 && response.headers.get('retry-after'))) result.undeclared5xx += 1;
      if (response.status === 202) {
        result.accepted.push({ id: ((await response.json()) as { id: string }).id, kind, sku, quantity });
        return;
      }
      if (response.status === 503) {
        const problem = (await response.json().catch(() => ({}))) as { type?: string };
        refused = problem.type === 'urn:order-platform:problem:overloaded';
      } else {
        await response.body?.cancel();
      }
      if (response.status < 500 && response.status !== 409) return;
    } catch {
      result.statuses.network = (result.statuses.network ?? 0) + 1;
    }
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
  }
  if (refused) result.rejected += 1;
}
