import { AppError } from './app-error.js';

/** A backing server (RabbitMQ, Postgres, Redis) could not be reached at start. */
export class DependencyUnavailableError extends AppError {
  readonly code = 'dependency_unavailable';

  constructor(
    readonly dependency: string,
    readonly hint: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(`${dependency} is unreachable`, options);
  }
}

export function isDependencyUnavailableError(error: unknown): error is DependencyUnavailableError {
  return error instanceof DependencyUnavailableError;
}
