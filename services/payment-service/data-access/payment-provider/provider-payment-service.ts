import type { Currency } from '../../../../shared/contracts/money.js';
import type { HTTPClient } from '../../../../shared/http/http-client.js';
import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from '../../../../shared/http/http-errors.js';
import { isBrokenCircuitError, type CircuitBreaker } from '../../../../shared/resilience/circuit-breaker.js';
import {
  InvalidPaymentRequestError,
  PaymentDeclinedError,
  PaymentOutcomeUnknownError,
  PaymentProviderUnavailableError,
} from './payment-errors.js';
import type { CallOptions, PaymentRequest, PaymentResponse, PaymentService, RefundRequest, RefundResponse } from './payment-service.js';

interface ProviderPayment {
  id: string;
  status: 'succeeded' | 'failed';
  amount: string;
  currency: Currency;
  created: string;
  order_id?: string | null;
  amount_refunded?: string;
}

interface ProviderRefund {
  id: string;
  payment: string;
  amount: string;
  currency: Currency;
  status: string;
  created: string;
}

interface ProviderError {
  error?: { type?: string; code?: string; message?: string; payment_id?: string };
}

/**
 * Port of the Python `StripePaymentService` (seeds/003): the provider's HTTP API behind the
 * `PaymentService` port, called through the circuit breaker. Where the Python wrapped every failure
 * in one `PaymentProcessingError`, failures here are typed by what the caller must do: a decline
 * or invalid request is final; unavailable means try later; an unknown outcome means look it up.
 */
export class ProviderPaymentService implements PaymentService {
  constructor(
    private readonly client: HTTPClient,
    private readonly breaker: CircuitBreaker,
  ) {}

  async processPayment(request: PaymentRequest, options: CallOptions): Promise<PaymentResponse> {
    const body = {
      amount: request.amount,
      currency: request.currency,
      source: request.cardToken,
      customer: request.customerId,
      description: request.description ?? null,
      ...(request.orderId ? { order_id: request.orderId } : {}),
    };
    const payment = (await this.write(() =>
      this.client.post('payments/create', body, { headers: { 'Idempotency-Key': options.idempotencyKey }, ...signal(options) }),
    )) as ProviderPayment;
    return toPayment(payment);
  }

  async refundPayment(request: RefundRequest, options: CallOptions): Promise<RefundResponse> {
    const body = { payment: request.paymentId, ...(request.amount ? { amount: request.amount } : {}), ...(request.reason ? { reason: request.reason } : {}) };
    const refund = (await this.write(() =>
      this.client.post('refunds', body, { headers: { 'Idempotency-Key': options.idempotencyKey }, ...signal(options) }),
    )) as ProviderRefund;
    return {
      refundId: refund.id,
      paymentId: refund.payment,
      amount: refund.amount,
      currency: refund.currency,
      status: refund.status,
      createdAt: new Date(refund.created),
    };
  }

  async getPayment(paymentId: string): Promise<PaymentResponse | null> {
    try {
      return toPayment((await this.read(() => this.client.get(`payments/${encodeURIComponent(paymentId)}`))) as ProviderPayment);
    } catch (error) {
      if (isHttpStatusError(error) && error.status === 404) return null;
      throw error;
    }
  }

  async findPaymentsByOrder(orderId: string): Promise<PaymentResponse[]> {
    const list = (await this.read(() => this.client.get('payments', { params: { order_id: orderId, limit: 100 } }))) as {
      data: ProviderPayment[];
    };
    return list.data.map(toPayment);
  }

  /** A charge or refund: a failure after the request may have left is an unknown outcome. */
  private async write(call: () => Promise<unknown>): Promise<unknown> {
    try {
      return await this.breaker.execute(call);
    } catch (error) {
      throw mapError(error, true);
    }
  }

  private async read(call: () => Promise<unknown>): Promise<unknown> {
    try {
      return await this.breaker.execute(call);
    } catch (error) {
      if (isHttpStatusError(error) && error.status === 404) throw error;
      throw mapError(error, false);
    }
  }
}

function signal(options: CallOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function toPayment(p: ProviderPayment): PaymentResponse {
  return {
    paymentId: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    createdAt: new Date(p.created),
    amountRefunded: p.amount_refunded ?? '0',
    ...(p.order_id ? { orderId: p.order_id } : {}),
  };
}

function mapError(error: unknown, isWrite: boolean): Error {
  if (isBrokenCircuitError(error)) return new PaymentProviderUnavailableError('payment provider circuit is open', { cause: error });
  if (isHttpStatusError(error)) {
    const detail = (error.body as ProviderError | undefined)?.error;
    const message = detail?.message ?? `provider answered ${error.status}`;
    if (error.status === 402) return new PaymentDeclinedError(message, detail?.code ?? 'card_declined', detail?.payment_id);
    if (error.status === 409) return new PaymentProviderUnavailableError('the same request is in progress at the provider', { cause: error });
    if (error.status === 429) return new PaymentProviderUnavailableError('provider rate limit', { cause: error });
    if (error.status >= 500) {
      return isWrite
        ? new PaymentOutcomeUnknownError(`provider answered ${error.status}`, { cause: error })
        : new PaymentProviderUnavailableError(`provider answered ${error.status}`, { cause: error });
    }
    return new InvalidPaymentRequestError(message, { cause: error, context: { status: error.status, provider_code: detail?.code } });
  }
  if (isHttpTimeoutError(error)) {
    return isWrite ? new PaymentOutcomeUnknownError(error.message, { cause: error }) : new PaymentProviderUnavailableError(error.message, { cause: error });
  }
  if (isHttpNetworkError(error)) {
    return isWrite && error.sent
      ? new PaymentOutcomeUnknownError(error.message, { cause: error })
      : new PaymentProviderUnavailableError(error.message, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
