import { AppError } from './app-error.js';

/**
 * A failure that will fail the same way every time (bad input, a business rule). Retry policies
 * and the message consumer check for it: such a failure is dead-lettered at once, never retried.
 */
export class NonRetryableError extends AppError {
  readonly code: string = 'non_retryable';
}

export function isNonRetryableError(error: unknown): error is NonRetryableError {
  return error instanceof NonRetryableError;
}
