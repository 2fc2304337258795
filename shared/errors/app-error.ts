/** Options every {@link AppError} accepts: machine context for logs and the underlying cause. */
export interface AppErrorOptions {
  context?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * Base class of the project's errors. `code` is stable (logs, problem types, tests match on it);
 * `context` carries ids, never secrets.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  readonly context: Record<string, unknown>;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
  }
}

/** True for any error raised by this project. */
export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
