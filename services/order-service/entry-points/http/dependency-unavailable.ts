/**
 * Connection-level failures of Postgres or Redis: the request may succeed later (answered 503 with
 * Retry-After), unlike a bug (500).
 */
export function isDependencyUnavailable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003'].includes(code ?? '') ||
    /Connection terminated|not queryable|timeout exceeded when trying to connect|Stream isn't writeable|connection is closed|Reached the max retries per request limit/i.test(message)
  );
}
