import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from '../../../../shared/http/http-errors.js';
import { isBulkheadFullError } from '../../../../shared/resilience/bulkhead.js';
import { isBrokenCircuitError } from '../../../../shared/resilience/circuit-breaker.js';
import { InvalidPaymentRequestError, PaymentDeclinedError, PaymentOutcomeUnknownError, PaymentProviderUnavailableError } from './payment-errors.js';

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

/**
 * Provider and transport failures → the typed errors of payment-errors.ts, by what the caller must
 * do. `kind` says whether the call could have changed anything (a charge or refund) or not (a read).
 */
export function mapProviderError(error: unknown, kind: 'read' | 'write', callerAborted = false): unknown {
  const unknownIfWrite = (message: string) =>
    kind === 'write' ? new PaymentOutcomeUnknownError(message, { cause: error }) : new PaymentProviderUnavailableError(message, { cause: error });
  if (isBrokenCircuitError(error)) return new PaymentProviderUnavailableError('the payment provider circuit is open', { cause: error });
  // Refused before it started, nothing sent: as with an open circuit, the message is tried again later.
  if (isBulkheadFullError(error)) return new PaymentProviderUnavailableError('too many payment provider calls are waiting', { cause: error });
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
