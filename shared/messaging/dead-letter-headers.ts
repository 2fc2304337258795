/** Headers a dead-lettered message carries, so tools can list, filter and replay it. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-dead-letter-reason',
  error: 'x-dead-letter-error',
  at: 'x-dead-lettered-at',
  queue: 'x-original-queue',
  routingKey: 'x-original-routing-key',
  retryCount: 'x-retry-count',
} as const;

export type DeadLetterReason =
  | 'unparseable'
  | 'schema_invalid'
  | 'unknown_type'
  | 'handler_rejected'
  | 'retries_exhausted';
