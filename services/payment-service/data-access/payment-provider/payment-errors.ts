import { AppError } from '../../../../shared/errors/app-error.js';
import { NonRetryableError } from '../../../../shared/errors/non-retryable-error.js';

/** The card was declined; retrying will not change it. */
export class PaymentDeclinedError extends NonRetryableError {
  override readonly code = 'payment_declined';
  constructor(
    message: string,
    readonly declineCode: string,
    readonly paymentId?: string,
  ) {
    super(message, { context: { decline_code: declineCode, payment_id: paymentId } });
  }
}

/** The provider rejected the request as invalid (4xx other than a decline). */
export class InvalidPaymentRequestError extends NonRetryableError {
  override readonly code = 'invalid_payment_request';
}

/** The provider cannot be reached or is failing (network, 5xx/429 on reads, circuit open): try later. */
export class PaymentProviderUnavailableError extends AppError {
  readonly code = 'payment_provider_unavailable';
}

/**
 * A charge or refund was sent but no answer came (timeout, connection lost, 5xx): the provider may
 * have performed it. Settle it by looking the payment up (or repeating the same idempotency key),
 * never by sending it again under a new key.
 */
export class PaymentOutcomeUnknownError extends AppError {
  readonly code = 'payment_outcome_unknown';
}

export const isPaymentDeclinedError = (e: unknown): e is PaymentDeclinedError => e instanceof PaymentDeclinedError;
export const isInvalidPaymentRequestError = (e: unknown): e is InvalidPaymentRequestError => e instanceof InvalidPaymentRequestError;
export const isPaymentProviderUnavailableError = (e: unknown): e is PaymentProviderUnavailableError =>
  e instanceof PaymentProviderUnavailableError;
export const isPaymentOutcomeUnknownError = (e: unknown): e is PaymentOutcomeUnknownError => e instanceof PaymentOutcomeUnknownError;
