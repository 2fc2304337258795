import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '../../shared/contracts/money.js';
import type { TestStack } from './test-stack.js';
import { authHeader } from './tokens.js';
import { waitFor } from './wait-for.js';

export interface OrderBody {
  items: { sku: string; quantity: number }[];
  currency: string;
  payment_source: string;
  shipping_address: Record<string, string>;
}

export interface OrderView {
  id: string;
  status: string;
  cancellation_reason: string | null;
  total: string;
  currency: string;
  history: { type: string; event_id: string; occurred_at: string }[];
}

export const ADDRESS = { name: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', postal_code: 'N1 9GU', country: 'GB' };

export function orderBody(overrides: Partial<OrderBody> = {}): OrderBody {
  return {
    items: [{ sku: 'MUG-LOGO', quantity: 2 }],
    currency: 'USD',
    payment_source: 'tok_visa',
    shipping_address: ADDRESS,
    ...overrides,
  };
}

/**
 * The REST API as a client sees it: a customer's Bearer token (or an operator's, with `'admin'`)
 * on every request, and a fresh Idempotency-Key on every POST unless the test passes its own
 * (`'idempotency-key': ''` in `headers` sends none).
 */
export class OrderApi {
  /** Every Idempotency-Key value this client sent, for the log scan (secret-scan.ts). */
  readonly idempotencyKeys: string[] = [];

  constructor(
    private readonly stack: Pick<TestStack, 'orderApi'>,
    readonly customerId: string | 'admin' = 'cus_test',
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const defaults: Record<string, string> = { 'content-type': 'application/json', ...(await authHeader(this.customerId)) };
    if (method === 'POST') defaults['idempotency-key'] = randomUUID();
    const all = Object.fromEntries(Object.entries({ ...defaults, ...headers }).filter(([, value]) => value !== ''));
    if (all['idempotency-key'] !== undefined) this.idempotencyKeys.push(all['idempotency-key']);
    return fetch(`${this.stack.orderApi}${path}`, {
      method,
      headers: all,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  async place(body: OrderBody = orderBody()): Promise<OrderView> {
    const response = await this.request('POST', '/orders', body);
    if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as OrderView;
  }

  async get(id: string): Promise<OrderView> {
    const response = await this.request('GET', `/orders/${id}`);
    if (response.status !== 200) throw new Error(`GET /orders/${id} answered ${response.status}`);
    return (await response.json()) as OrderView;
  }

  /** Waits until the order is in a terminal state, and returns it. */
  async settled(id: string, timeoutMs = 20_000): Promise<OrderView> {
    return waitFor(
      async () => {
        const order = await this.get(id);
        return ['completed', 'cancelled'].includes(order.status) ? order : undefined;
      },
      { timeoutMs, what: `order ${id} to settle` },
    );
  }

  async available(sku: string): Promise<number> {
    const response = await this.request('GET', '/products');
    const { data } = (await response.json()) as { data: { sku: string; available: number }[] };
    const product = data.find((p) => p.sku === sku);
    if (!product) throw new Error(`no product ${sku}`);
    return product.available;
  }
}

export interface LedgerPayment {
  id: string;
  status: string;
  amount: string;
  amount_refunded: string;
  currency: string;
}

/** The provider's ledger, read through its own API. */
export class ProviderLedger {
  constructor(private readonly stack: TestStack) {}

  async paymentsFor(orderId: string): Promise<LedgerPayment[]> {
    const response = await fetch(`${this.stack.providerUrl}/payments?order_id=${orderId}&limit=100`, {
      headers: { authorization: `Bearer ${this.stack.providerApiKey}` },
    });
    if (!response.ok) throw new Error(`provider list answered ${response.status}`);
    return ((await response.json()) as { data: LedgerPayment[] }).data;
  }

  /** Charged minus refunded, in minor units, over the order's succeeded payments. */
  async netChargeCents(orderId: string): Promise<number> {
    const payments = await this.paymentsFor(orderId);
    return payments
      .filter((p) => p.status === 'succeeded')
      .reduce((sum, p) => sum + Number(toMinorUnits(p.amount, p.currency) - toMinorUnits(p.amount_refunded, p.currency)), 0);
  }
}
