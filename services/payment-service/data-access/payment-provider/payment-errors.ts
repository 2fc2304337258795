import { AppError, type AppErrorOptions } from '../../../../shared/errors/app-error.js';
import { NonRetryableError } from '../../../../shared/errors/non-retryable-error.js';

/**
 * The Python wrapped every failure in one `PaymentProcessingError`. Here each failure says what
 * the caller must do: declined / invalid → final, never retried; unavailable → try again later
 * (same key); outcome unknown → look the payment up before anything else.
 */

/** The card was declined (provider 402); retrying will not change it. */
export class PaymentDeclinedError extends NonRetryableError {
  override readonly code = 'payment_declined';
  /** The provider's reason, e.g. `card_declined`, `insufficient_funds`. */
  readonly declineCode: string;
  /** The failed payment the provider recorded, when it recorded one. */
  readonly paymentId: string | undefined;

  constructor(message: string, options: AppErrorOptions & { declineCode: string; paymentId?: string }) {
    super(message, { cause: options.cause, context: { decline_code: options.declineCode, payment_id: options.paymentId, ...options.context } });
    this.declineCode = options.declineCode;
    this.paymentId = options.paymentId;
  }
}

/**
 * The provider rejected the request as invalid (400, 404, 422 `idempotency_key_reused`, …);
 * sending it again would fail the same way.
 */
export class InvalidPaymentRequestError extends NonRetryableError {
  override readonly code = 'invalid_payment_request';
  /** The provider's error code, e.g. `charge_already_refunded`, `amount_too_large`. */
  readonly providerCode: string | undefined;
  /** The HTTP status the provider answered, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: AppErrorOptions & { providerCode?: string; status?: number } = {}) {
    super(message, { cause: options.cause, context: { provider_code: options.providerCode, status: options.status, ...options.context } });
    this.providerCode = options.providerCode;
    this.status = options.status;
  }
}

/**
 * The provider cannot be used now: connection refused, 429 or 5xx on a read after the retries, a
 * request with the same key still in progress (409), rejected credentials, or the circuit open.
 * Nothing was charged or refunded by this call: try again later with the same key.
 */
export class PaymentProviderUnavailableError extends AppError {
  readonly code = 'payment_provider_unavailable';
}

/**
 * A charge or refund may have been sent but no usable answer came (timeout, connection lost, 5xx,
 * an unreadable 2xx): the provider may have performed it. Settle it by looking the payment up (or
 * repeating the same idempotency key), never by sending it again under a new key.
 */
export class PaymentOutcomeUnknownError extends AppError {
  readonly code = 'payment_outcome_unknown';
}

/** Type guard for {@link PaymentDeclinedError}. */
export const isPaymentDeclinedError = (e: unknown): e is PaymentDeclinedError => e instanceof PaymentDeclinedError;
/** Type guard for {@link InvalidPaymentRequestError}. */
export const isInvalidPaymentRequestError = (e: unknown): e is InvalidPaymentRequestError => e instanceof InvalidPaymentRequestError;
/** Type guard for {@link PaymentProviderUnavailableError}. */
export const isPaymentProviderUnavailableError = (e: unknown): e is PaymentProviderUnavailableError =>
  e instanceof PaymentProviderUnavailableError;
/** Type guard for {@link PaymentOutcomeUnknownError}. */
export const isPaymentOutcomeUnknownError = (e: unknown): e is PaymentOutcomeUnknownError => e instanceof PaymentOutcomeUnknownError;
