import { AppError } from '../errors/app-error.js';

/**
 * The broker returned a mandatory publish: no queue is bound to its routing key, so nobody would
 * have received it. The event is not published; its outbox row stays for the sweep to send again.
 */
export class UnroutableEventError extends AppError {
  readonly code = 'unroutable_event';
}

export function isUnroutableEventError(error: unknown): error is UnroutableEventError {
  return error instanceof UnroutableEventError;
}
