import { Type, type Static } from '@sinclair/typebox';
import pLimit, { type LimitFunction } from 'p-limit';
import { CurrencyCode, DecimalAmount, isInvalidAmountError, normaliseAmount } from '../../../../shared/contracts/money.js';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import type { HTTPClient } from '../../../../shared/http/http-client.js';
import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from '../../../../shared/http/http-errors.js';
import { isBrokenCircuitError, type CircuitBreaker } from '../../../../shared/resilience/circuit-breaker.js';
import {
  InvalidPaymentRequestError,
  PaymentDeclinedError,
  PaymentOutcomeUnknownError,
  PaymentProviderUnavailableError,
  isInvalidPaymentRequestError,
} from './payment-errors.js';
import type {
  CallOptions,
  ListPage,
  Page,
  PaymentRequest,
  PaymentResponse,
  PaymentService,
  RefundRequest,
  RefundResponse,
} from './payment-service.js';

// What the provider answers, checked before use: nothing read off the wire is trusted as typed.
// Extra fields are allowed so that the provider may grow its objects.
const Timestamp = Type.String({ format: 'date-time' });
const ProviderPayment = Type.Object({
  id: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  amount: DecimalAmount,
  currency: CurrencyCode,
  created: Timestamp,
  order_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  amount_refunded: Type.Optional(DecimalAmount),
});
const ProviderRefund = Type.Object({
  id: Type.String({ minLength: 1 }),
  payment: Type.String({ minLength: 1 }),
  amount: DecimalAmount,
  currency: CurrencyCode,
  status: Type.String(),
  created: Timestamp,
});
const ProviderList = Type.Object({ data: Type.Array(ProviderPayment), has_more: Type.Optional(Type.Boolean()) });
const ProviderRefundList = Type.Object({ data: Type.Array(ProviderRefund), has_more: Type.Optional(Type.Boolean()) });
const checkPayment = compileValidator(ProviderPayment);
const checkRefund = compileValidator(ProviderRefund);
const checkList = compileValidator(ProviderList);
const checkRefundList = compileValidator(ProviderRefundList);

/** A provider call, for metrics: `charge` and `refund` write, `lookup` reads. */
export type ProviderOperation = 'charge' | 'refund' | 'lookup';
/**
 * How a provider call ended: `success`; `declined` (the card); `rejected` (the circuit was open, no
 * request made); `timeout` (no answer in time); `error` (anything else).
 */
export type ProviderCallOutcome = 'success' | 'declined' | 'rejected' | 'timeout' | 'error';
export type ProviderCallObserver = (operation: ProviderOperation, outcome: ProviderCallOutcome, seconds: number) => void;

/** At most one charge exists per order, so one page always holds them all. */
const ORDER_PAGE_SIZE = 100;

/**
 * Port of the `StripePaymentService` of the payment adapter's Python design: the provider's HTTP
 * API behind the {@link PaymentService} port, each call made through its operation's circuit breaker.
 *
 * Deliberate differences from the Python, which retried every POST and wrapped every failure in
 * one `PaymentProcessingError`:
 * - Charges and refunds carry the caller's `Idempotency-Key`, and the HTTP client retries them
 *   only after failures that prove nothing was performed (connection refused, 429). A timeout,
 *   a lost connection or a 5xx after the request may have left is a
 *   {@link PaymentOutcomeUnknownError} at once: the caller settles it by looking the payment up,
 *   and any later retry goes through the saga with the same key, never a new one.
 * - Reads (look-ups) are retried on every transient failure; they change nothing.
 * - Failures are typed by what the caller must do (see payment-errors.ts).
 * - A 200 whose payment says `failed` is treated as a decline, so that it can never be taken
 *   for a charge.
 * No logging here: the typed error carries the detail and the caller logs it once, with the
 * order's correlation id.
 */
export class ProviderPaymentService implements PaymentService {
  private readonly breakers: Record<ProviderOperation, CircuitBreaker>;
  private readonly limits: Record<ProviderOperation, LimitFunction>;

  /**
   * @param breakers one breaker per operation (charges, refunds and look-ups do not share one fate:
   *   failing charges open the charges' circuit and leave refunds flowing), or one for every call
   * @param concurrency the most calls of each operation in flight at once; the others wait their
   *   turn before their timeout starts. @defaultValue no limit beyond the HTTP client's sockets
   */
  constructor(
    private readonly client: HTTPClient,
    breakers: CircuitBreaker | Record<ProviderOperation, CircuitBreaker>,
    /** Told of every call's duration and outcome (metrics). */
    private readonly observe?: ProviderCallObserver,
    concurrency: Partial<Record<ProviderOperation, number>> = {},
  ) {
    this.breakers = 'execute' in breakers ? { charge: breakers, refund: breakers, lookup: breakers } : breakers;
    const limit = (operation: ProviderOperation) => pLimit(concurrency[operation] ?? Number.POSITIVE_INFINITY);
    this.limits = { charge: limit('charge'), refund: limit('refund'), lookup: limit('lookup') };
  }

  processPayment(request: PaymentRequest, options: CallOptions): Promise<PaymentResponse> {
    return this.timed('charge', () => this.charge(request, options));
  }

  refundPayment(request: RefundRequest, options: CallOptions): Promise<RefundResponse> {
    return this.timed('refund', () => this.refund(request, options));
  }

  getPayment(paymentId: string): Promise<PaymentResponse | null> {
    return this.timed('lookup', () => this.lookUp(paymentId));
  }

  findPaymentsByOrder(orderId: string): Promise<PaymentResponse[]> {
    return this.timed('lookup', () => this.findByOrder(orderId));
  }

  listPayments(page: ListPage): Promise<Page<PaymentResponse>> {
    return this.timed('lookup', async () => {
      const data = readBody(await this.read('payments', pageParams(page)), checkList, 'payment list', false);
      return { items: data.data.map(toPayment), hasMore: data.has_more === true };
    });
  }

  listRefunds(page: ListPage): Promise<Page<RefundResponse>> {
    return this.timed('lookup', async () => {
      const data = readBody(await this.read('refunds', pageParams(page)), checkRefundList, 'refund list', false);
      return { items: data.data.map(toRefund), hasMore: data.has_more === true };
    });
  }

  private async timed<T>(operation: ProviderOperation, call: () => Promise<T>): Promise<T> {
    const observe = this.observe;
    if (!observe) return this.limits[operation](call);
    const started = performance.now();
    try {
      const result = await this.limits[operation](call);
      observe(operation, 'success', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      observe(operation, outcomeOf(error), (performance.now() - started) / 1000);
      throw error;
    }
  }

  private async charge(request: PaymentRequest, options: CallOptions): Promise<PaymentResponse> {
    const body = {
      amount: validAmount(request.amount, request.currency),
      currency: request.currency,
      source: request.cardToken,
      customer: request.customerId,
      description: request.description ?? null,
      ...(request.orderId ? { order_id: request.orderId } : {}),
    };
    const payment = toPayment(readBody(await this.write('charge', 'payments/create', body, options), checkPayment, 'payment'));
    if (payment.status === 'failed') {
      throw new PaymentDeclinedError('the provider recorded the payment as failed', { declineCode: 'card_declined', paymentId: payment.paymentId });
    }
    return payment;
  }

  private async refund(request: RefundRequest, options: CallOptions): Promise<RefundResponse> {
    const body = {
      payment: request.paymentId,
      ...(request.amount ? { amount: request.amount } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
    };
    return toRefund(readBody(await this.write('refund', 'refunds', body, options), checkRefund, 'refund'));
  }

  private async lookUp(paymentId: string): Promise<PaymentResponse | null> {
    try {
      const data = await this.read(`payments/${encodeURIComponent(paymentId)}`);
      return toPayment(readBody(data, checkPayment, 'payment', false));
    } catch (error) {
      if (isInvalidPaymentRequestError(error) && error.status === 404) return null;
      throw error;
    }
  }

  private async findByOrder(orderId: string): Promise<PaymentResponse[]> {
    const data = await this.read('payments', { order_id: orderId, limit: ORDER_PAGE_SIZE });
    return readBody(data, checkList, 'payment list', false).data.map(toPayment);
  }

  /** A charge or refund: once the request may have left, a failure is an unknown outcome. */
  private async write(operation: 'charge' | 'refund', path: string, body: unknown, options: CallOptions): Promise<unknown> {
    if (options.signal?.aborted) throw options.signal.reason; // nothing has been sent
    try {
      return await this.breakers[operation].execute(
        (signal) =>
          this.client.post(path, body, {
            headers: { 'Idempotency-Key': options.idempotencyKey },
            retryWhen: certainlyNotPerformed,
            ...(signal ? { signal } : {}),
          }),
        options.signal,
      );
    } catch (error) {
      throw mapError(error, 'write', options.signal?.aborted === true);
    }
  }

  private async read(path: string, params?: Record<string, string | number>): Promise<unknown> {
    try {
      return await this.breakers.lookup.execute(() => this.client.get(path, params ? { params } : {}));
    } catch (error) {
      throw mapError(error, 'read');
    }
  }
}

/** A failed call's outcome label, from the typed error and what caused it. */
function outcomeOf(error: unknown): ProviderCallOutcome {
  if (error instanceof PaymentDeclinedError) return 'declined';
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (isBrokenCircuitError(cause)) return 'rejected';
    if (isHttpTimeoutError(cause)) return 'timeout';
  }
  return 'error';
}

/** Failures after which the provider cannot have acted: the only ones a charge or refund retries. */
function certainlyNotPerformed(error: unknown): boolean {
  return (isHttpNetworkError(error) && !error.sent) || (isHttpStatusError(error) && error.status === 429);
}

/** "5" USD → "5.00"; a malformed amount fails here, before anything is sent. */
function validAmount(amount: string, currency: PaymentRequest['currency']): string {
  try {
    return normaliseAmount(amount, currency);
  } catch (error) {
    if (isInvalidAmountError(error)) throw new InvalidPaymentRequestError(error.message, { cause: error });
    throw error;
  }
}

/** Checks a 2xx body; an unreadable one after a write is an unknown outcome (it may have committed). */
function readBody<T>(data: unknown, check: (value: unknown) => { ok: true; value: T } | { ok: false }, what: string, isWrite = true): T {
  const result = check(data);
  if (result.ok) return result.value;
  const message = `the provider answered with an unreadable ${what}`;
  throw isWrite ? new PaymentOutcomeUnknownError(message) : new PaymentProviderUnavailableError(message);
}

function toRefund(refund: Static<typeof ProviderRefund>): RefundResponse {
  return {
    refundId: refund.id,
    paymentId: refund.payment,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    createdAt: new Date(refund.created),
  };
}

function pageParams(page: ListPage): Record<string, string | number> {
  return { limit: page.limit, ...(page.startingAfter ? { starting_after: page.startingAfter } : {}) };
}

function toPayment(p: Static<typeof ProviderPayment>): PaymentResponse {
  return {
    paymentId: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    createdAt: new Date(p.created),
    amountRefunded: p.amount_refunded ?? normaliseAmount('0', p.currency),
    ...(p.order_id ? { orderId: p.order_id } : {}),
  };
}

interface ProviderErrorDetail {
  type?: string;
  code?: string;
  message?: string;
  payment_id?: string;
}

/** The provider's `{error: {...}}` envelope, when the body is one. */
function errorDetail(body: unknown): ProviderErrorDetail {
  const detail = (body as { error?: unknown } | null)?.error;
  if (!detail || typeof detail !== 'object') return {};
  const pick = (key: keyof ProviderErrorDetail) => {
    const value = (detail as Record<string, unknown>)[key];
    return typeof value === 'string' ? { [key]: value } : {};
  };
  return { ...pick('type'), ...pick('code'), ...pick('message'), ...pick('payment_id') };
}

/** Provider and transport failures → the typed errors of payment-errors.ts. */
function mapError(error: unknown, kind: 'read' | 'write', callerAborted = false): unknown {
  const unknownIfWrite = (message: string) =>
    kind === 'write' ? new PaymentOutcomeUnknownError(message, { cause: error }) : new PaymentProviderUnavailableError(message, { cause: error });
  if (isBrokenCircuitError(error)) return new PaymentProviderUnavailableError('the payment provider circuit is open', { cause: error });
  if (isHttpStatusError(error)) {
    const detail = errorDetail(error.body);
    const message = detail.message ?? `the provider answered ${error.status}`;
    const context = { status: error.status, provider_code: detail.code };
    if (error.status === 402) {
      return new PaymentDeclinedError(message, {
        declineCode: detail.code ?? 'card_declined',
        ...(detail.payment_id ? { paymentId: detail.payment_id } : {}),
        cause: error,
      });
    }
    // 409: a request with this key is still running there; the same key later gets its answer.
    if (error.status === 409) return new PaymentProviderUnavailableError('a request with this key is in progress at the provider', { cause: error, context });
    if (error.status === 429) return new PaymentProviderUnavailableError('the provider is rate limiting', { cause: error, context });
    // Our credentials, not the customer's request: fail over to later (and an operator), never
    // cancel the order as if it were invalid.
    if (error.status === 401 || error.status === 403) {
      return new PaymentProviderUnavailableError('the provider rejected our credentials', { cause: error, context });
    }
    if (error.status >= 500) return unknownIfWrite(`the provider answered ${error.status}`);
    return new InvalidPaymentRequestError(message, { cause: error, status: error.status, ...(detail.code ? { providerCode: detail.code } : {}) });
  }
  if (isHttpTimeoutError(error)) return unknownIfWrite(error.message);
  if (isHttpNetworkError(error)) {
    return error.sent ? unknownIfWrite(error.message) : new PaymentProviderUnavailableError(error.message, { cause: error });
  }
  // The caller aborted a write in flight (the client rethrows the signal's reason): it may have
  // reached the provider.
  if (callerAborted) return new PaymentOutcomeUnknownError('the charge or refund was aborted in flight', { cause: error });
  return error;
}
