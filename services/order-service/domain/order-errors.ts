import { AppError } from '../../../shared/errors/app-error.js';

/** A request that is well-formed but cannot be honoured (unknown SKU, no price in that currency). */
export class OrderRejectedError extends AppError {
  constructor(
    readonly code: 'unknown_sku' | 'currency_not_offered',
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(message, { context });
  }
}

export function isOrderRejectedError(error: unknown): error is OrderRejectedError {
  return error instanceof OrderRejectedError;
}

export class OrderNotFoundError extends AppError {
  readonly code = 'order_not_found';
}

export function isOrderNotFoundError(error: unknown): error is OrderNotFoundError {
  return error instanceof OrderNotFoundError;
}

/** The order has shipped (completed): it can no longer be cancelled. */
export class OrderNotCancellableError extends AppError {
  readonly code = 'order_not_cancellable';
}

export function isOrderNotCancellableError(error: unknown): error is OrderNotCancellableError {
  return error instanceof OrderNotCancellableError;
}

/** The idempotency key already placed an order, from another request body. */
export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'idempotency_key_reused';
}

export function isIdempotencyKeyReusedError(error: unknown): error is IdempotencyKeyReusedError {
  return error instanceof IdempotencyKeyReusedError;
}
