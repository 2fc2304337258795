import { AppError } from './app-error.js';

/**
 * A backing server (RabbitMQ, Postgres, Redis) answered, but the TLS connection to it failed: its
 * certificate did not verify, it has no TLS, or it takes only TLS and was asked for plain text.
 * Never answered by trying plain text instead. `target` is the server's URL without its password.
 */
export class DependencyTlsError extends AppError {
  readonly code = 'dependency_tls_failed';

  constructor(
    readonly dependency: string,
    readonly target: string,
    readonly reason: string,
    /** What to check, in the operator's terms (which variable, which setting). */
    readonly hint: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${dependency} TLS connection failed (${target}): ${reason}`, { ...options, context: { dependency, target, reason } });
  }
}

export function isDependencyTlsError(error: unknown): error is DependencyTlsError {
  return error instanceof DependencyTlsError;
}
