import { AppError } from '../errors/app-error.js';

/** Options of {@link HttpStatusError}. */
export interface HttpStatusErrorOptions {
  /** From the response's Retry-After header, when the server sent one. */
  retryAfterMs?: number;
  /** Machine context (method, path); never headers, which carry the bearer token. */
  context?: Record<string, unknown>;
}

/** The server answered with a non-2xx status; `body` is the parsed JSON (or the raw text). */
export class HttpStatusError extends AppError {
  readonly code = 'http_status';
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly status: number,
    readonly body: unknown,
    options: HttpStatusErrorOptions = {},
  ) {
    super(`HTTP ${status}`, { context: { status, ...options.context } });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Options of {@link HttpNetworkError}. */
export interface HttpNetworkErrorOptions {
  /**
   * False only when the connection was never established (refused, DNS, unreachable): the server
   * cannot have seen the request. True whenever it may have left, e.g. a reset mid-request.
   */
  sent: boolean;
  /** The socket error code, e.g. `ECONNREFUSED`, `ECONNRESET`. */
  errorCode?: string;
  cause?: unknown;
  context?: Record<string, unknown>;
}

/** The connection failed (refused, reset, DNS) before a complete response arrived. */
export class HttpNetworkError extends AppError {
  readonly code = 'http_network';
  readonly sent: boolean;
  readonly errorCode: string | undefined;

  constructor(message: string, options: HttpNetworkErrorOptions) {
    super(message, { cause: options.cause, context: { error_code: options.errorCode, ...options.context } });
    this.sent = options.sent;
    this.errorCode = options.errorCode;
  }
}

/**
 * The per-request timeout fired and the request was aborted (its socket destroyed). The request
 * may have reached the server: for a write, the outcome is unknown.
 */
export class HttpTimeoutError extends AppError {
  readonly code = 'http_timeout';
}

/** Type guard for {@link HttpStatusError}. */
export const isHttpStatusError = (e: unknown): e is HttpStatusError => e instanceof HttpStatusError;
/** Type guard for {@link HttpNetworkError}. */
export const isHttpNetworkError = (e: unknown): e is HttpNetworkError => e instanceof HttpNetworkError;
/** Type guard for {@link HttpTimeoutError}. */
export const isHttpTimeoutError = (e: unknown): e is HttpTimeoutError => e instanceof HttpTimeoutError;

/** Worth retrying: a network error, a timeout, 429 or 5xx — never another 4xx. */
export function isTransientHttpError(error: unknown): boolean {
  if (isHttpNetworkError(error) || isHttpTimeoutError(error)) return true;
  return isHttpStatusError(error) && (error.status === 429 || error.status >= 500);
}

/**
 * Parses a Retry-After header (RFC 9110: delta seconds or an HTTP date) into milliseconds from
 * `now`; undefined when absent or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
