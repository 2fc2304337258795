import { issueToken, type TokenSettings } from '../../../shared/auth/tokens.js';
import { HTTPClient } from '../../../shared/http/http-client.js';
import { isHttpStatusError } from '../../../shared/http/http-errors.js';
import type { Logger } from '../../../shared/logging/logger.js';
import type { OrderState } from '../domain/reconciliation/classify.js';
import type { OrderDirectory } from '../domain/reconciliation/reconcile.js';

/** How long the token it signs for itself lives; a new one is signed a minute before. */
const TOKEN_TTL_S = 600;

/**
 * Asks order-service's admin API what became of an order (`GET /admin/orders/:id`), with an admin
 * token it signs with the API's token settings. Used by the reconciliation, and only for charges
 * that no payment row accounts for: whether their order is unknown, cancelled, still running, or
 * completed decides between a refund and a record. Never reads order-service's tables.
 */
export class HttpOrderDirectory implements OrderDirectory {
  private readonly client: HTTPClient;
  private token: { value: string; renewAt: number } | undefined;

  constructor(
    baseUrl: string,
    private readonly settings: TokenSettings,
    logger: Logger,
  ) {
    this.client = new HTTPClient({ baseUrl, apiKey: '', timeoutMs: 5_000, retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 }, logger });
  }

  async stateOf(orderId: string): Promise<OrderState> {
    try {
      const order = (await this.client.get(`admin/orders/${encodeURIComponent(orderId)}`, {
        headers: { Authorization: `Bearer ${await this.currentToken()}` },
      })) as { status?: unknown };
      if (order.status === 'completed' || order.status === 'cancelled') return order.status;
      return 'open';
    } catch (error) {
      if (isHttpStatusError(error) && error.status === 404) return 'unknown';
      throw error;
    }
  }

  close(): void {
    this.client.close();
  }

  private async currentToken(): Promise<string> {
    if (!this.token || Date.now() >= this.token.renewAt) {
      const value = await issueToken(this.settings, { subject: 'payment-service', role: 'admin' }, TOKEN_TTL_S);
      this.token = { value, renewAt: Date.now() + (TOKEN_TTL_S - 60) * 1000 };
    }
    return this.token.value;
  }
}
