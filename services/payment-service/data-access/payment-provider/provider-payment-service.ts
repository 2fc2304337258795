import { isInvalidAmountError, normaliseAmount } from '../../../../shared/contracts/money.js';
import type { HTTPClient, RequestPolicies } from '../../../../shared/http/http-client.js';
import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from '../../../../shared/http/http-errors.js';
import { LookupCache } from '../../../../shared/http/lookup-cache.js';
import { Bulkhead, isBulkheadFullError } from '../../../../shared/resilience/bulkhead.js';
import { breakerPolicy, isBrokenCircuitError, type CircuitBreaker } from '../../../../shared/resilience/circuit-breaker.js';
import { compose, type Policy } from '../../../../shared/resilience/policy.js';
import {
  InvalidPaymentRequestError,
  PaymentDeclinedError,
  PaymentOutcomeUnknownError,
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
import { mapProviderError } from './provider-error-mapping.js';
import { checkList, checkPayment, checkRefund, checkRefundList, readBody, toPayment, toRefund } from './provider-wire.js';

/** A provider call, for metrics: `charge` and `refund` write, `lookup` reads. */
export type ProviderOperation = 'charge' | 'refund' | 'lookup';
/**
 * How a provider call ended: `success`; `declined` (the card); `rejected` (the circuit was open or
 * the bulkhead full: no request made); `timeout` (no answer in time); `error` (anything else).
 */
export type ProviderCallOutcome = 'success' | 'declined' | 'rejected' | 'timeout' | 'error';
export type ProviderCallObserver = (operation: ProviderOperation, outcome: ProviderCallOutcome, seconds: number) => void;

/** At most one charge exists per order, so one page always holds them all. */
const ORDER_PAGE_SIZE = 100;

/**
 * How long a look-up by order that found a charge is served again: enough to share the look-ups
 * of a burst (a batch run again, a cancellation checking the charge its handler just checked),
 * short enough that nothing acts on an answer older than a few provider round trips.
 */
const LOOKUP_CACHE_TTL_MS = 2_000;

/** An operation's bulkhead: calls running at once, and calls that may wait for a slot. */
export interface ProviderCallLimits {
  maxConcurrent: number;
  maxQueued: number;
}

/** Options of {@link ProviderPaymentService}. */
export interface ProviderPaymentServiceOptions {
  /** Told of every call's duration and outcome (metrics); not of answers served from the cache. */
  observe?: ProviderCallObserver;
  /**
   * Each operation's bulkhead. A call waiting for a slot has not started its timeout; beyond the
   * queue a call fails at once as unavailable, nothing sent.
   * @defaultValue no limit beyond the HTTP client's sockets
   */
  limits?: Partial<Record<ProviderOperation, ProviderCallLimits>>;
  /** @defaultValue {@link LOOKUP_CACHE_TTL_MS} */
  lookupCacheTtlMs?: number;
}

/**
 * Port of the `StripePaymentService` of the payment adapter's Python design: the provider's HTTP
 * API behind the {@link PaymentService} port, each call made through its operation's bulkhead and
 * circuit breaker (the order of the layers is declared in one place: `policies`).
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
  private readonly bulkheads: Record<ProviderOperation, Bulkhead>;
  private readonly observe: ProviderCallObserver | undefined;
  private readonly paymentsByOrder: LookupCache<PaymentResponse[]>;

  /**
   * @param breakers one breaker per operation (charges, refunds and look-ups do not share one fate:
   *   failing charges open the charges' circuit and leave refunds flowing), or one for every call
   */
  constructor(
    private readonly client: HTTPClient,
    breakers: CircuitBreaker | Record<ProviderOperation, CircuitBreaker>,
    options: ProviderPaymentServiceOptions = {},
  ) {
    this.breakers = 'execute' in breakers ? { charge: breakers, refund: breakers, lookup: breakers } : breakers;
    const bulkhead = (operation: ProviderOperation) =>
      new Bulkhead({
        name: `payment-provider-${operation}`,
        maxConcurrent: options.limits?.[operation]?.maxConcurrent ?? Number.POSITIVE_INFINITY,
        maxQueued: options.limits?.[operation]?.maxQueued ?? 0,
      });
    this.bulkheads = { charge: bulkhead('charge'), refund: bulkhead('refund'), lookup: bulkhead('lookup') };
    this.observe = options.observe;
    this.paymentsByOrder = new LookupCache({
      ttlMs: options.lookupCacheTtlMs ?? LOOKUP_CACHE_TTL_MS,
      keep: (payments) => payments.some((payment) => payment.status === 'succeeded'),
    });
  }

  /**
   * The layers of every provider call of `operation`, outermost first, as the call goes in:
   * - bulkhead: waits for one of the operation's slots, or is refused at once when its queue is
   *   full. Outermost, so that a call keeps its one slot through its retries and their backoff (a
   *   retry never queues again behind newer calls, nor takes a second slot), and the slots bound
   *   the sockets in use. A refusal never reaches the breaker: being busy says nothing of the
   *   provider's health, and opossum would count it as a success. The price: while the circuit is
   *   open, a queued call waits for a slot before the breaker refuses it, at most as long as the
   *   calls already in flight take to time out.
   * - breaker: refuses at once while the operation's circuit is open. Outside the retries, so that a
   *   call counts once however many attempts it made.
   * - retry: the client's; a charge or refund only after a failure proving nothing was performed.
   * - timeout: the client's, per attempt: it aborts the request.
   */
  private policies(operation: ProviderOperation): (own: RequestPolicies) => Policy {
    return ({ retry, timeout }) => compose(this.bulkheads[operation], breakerPolicy(this.breakers[operation]), retry, timeout);
  }

  processPayment(request: PaymentRequest, options: CallOptions): Promise<PaymentResponse> {
    return this.timed('charge', () => this.charge(request, options));
  }

  refundPayment(request: RefundRequest, options: CallOptions): Promise<RefundResponse> {
    return this.timed('refund', () => this.refund(request, options));
  }

  /**
   * Never cached: the reconciliation reads a payment again just before refunding it, so as never to
   * refund twice, and a kept answer would defeat that.
   */
  getPayment(paymentId: string): Promise<PaymentResponse | null> {
    return this.timed('lookup', () => this.lookUp(paymentId));
  }

  /**
   * Served from a short-lived cache, and shared by concurrent callers, only when the answer holds a
   * succeeded charge. A found charge stays found (the provider never turns a succeeded payment back;
   * a refund changes only its `amountRefunded`), and its id and amount, which the charge handler and
   * a cancellation act on, never change. An answer without one is never kept, nor handed to a
   * caller who asked after its request left: it is the answer a charge in doubt makes false the
   * moment it lands, and a stale one would let a cancellation close the order's row as cancelled
   * while its charge had just gone through (caught later, by the charge's retry or the
   * reconciliation, but later). A kept `amountRefunded` may be seconds behind: the reconciliation,
   * which reads it, reads the payment again uncached ({@link getPayment}) before it refunds.
   */
  findPaymentsByOrder(orderId: string): Promise<PaymentResponse[]> {
    const params = { order_id: orderId, limit: ORDER_PAGE_SIZE };
    return this.paymentsByOrder.get(lookupKey('payments', params), () => this.timed('lookup', () => this.findByOrder(params)));
  }

  // The ledger's pages are not cached: the reconciliation reads each once a run, runs are minutes
  // apart, and a kept page would only be a ledger older than the run that reads it.
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
    if (!observe) return call();
    const started = performance.now();
    try {
      const result = await call();
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

  private async findByOrder(params: { order_id: string; limit: number }): Promise<PaymentResponse[]> {
    const data = await this.read('payments', params);
    return readBody(data, checkList, 'payment list', false).data.map(toPayment);
  }

  /** A charge or refund: once the request may have left, a failure is an unknown outcome. */
  private async write(operation: 'charge' | 'refund', path: string, body: unknown, options: CallOptions): Promise<unknown> {
    if (options.signal?.aborted) throw options.signal.reason; // nothing has been sent
    try {
      return await this.client.post(path, body, {
        headers: { 'Idempotency-Key': options.idempotencyKey },
        retryWhen: certainlyNotPerformed,
        policies: this.policies(operation),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      throw mapProviderError(error, 'write', options.signal?.aborted === true);
    }
  }

  private async read(path: string, params?: Record<string, string | number>): Promise<unknown> {
    try {
      return await this.client.get(path, { policies: this.policies('lookup'), ...(params ? { params } : {}) });
    } catch (error) {
      throw mapProviderError(error, 'read');
    }
  }
}

/** A failed call's outcome label, from the typed error and what caused it. */
function outcomeOf(error: unknown): ProviderCallOutcome {
  if (error instanceof PaymentDeclinedError) return 'declined';
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (isBrokenCircuitError(cause) || isBulkheadFullError(cause)) return 'rejected';
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

/** A look-up's cache key: its path and its query, parameters sorted. */
function lookupKey(path: string, params: Record<string, string | number>): string {
  const query = new URLSearchParams(Object.entries(params).map(([name, value]): [string, string] => [name, String(value)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${path}?${query}`;
}

function pageParams(page: ListPage): Record<string, string | number> {
  return { limit: page.limit, ...(page.startingAfter ? { starting_after: page.startingAfter } : {}) };
}
