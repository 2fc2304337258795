import { AppError } from '../errors/app-error.js';

/** The server answered with a non-2xx status. */
export class HttpStatusError extends AppError {
  readonly code = 'http_status';
  constructor(
    readonly status: number,
    readonly body: unknown,
    /** From a Retry-After header, when the server sent one. */
    readonly retryAfterMs: number | undefined,
    options: { context?: Record<string, unknown> } = {},
  ) {
    super(`HTTP ${status}`, options);
  }
}

/** The connection failed (refused, reset, DNS); `sent` tells whether the request may have left. */
export class HttpNetworkError extends AppError {
  readonly code = 'http_network';
  constructor(
    message: string,
    /** False only when the connection was never established (refused): the server saw nothing. */
    readonly sent: boolean,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options);
  }
}

/** The per-request timeout fired and the request was aborted (socket closed). */
export class HttpTimeoutError extends AppError {
  readonly code = 'http_timeout';
}

export const isHttpStatusError = (e: unknown): e is HttpStatusError => e instanceof HttpStatusError;
export const isHttpNetworkError = (e: unknown): e is HttpNetworkError => e instanceof HttpNetworkError;
export const isHttpTimeoutError = (e: unknown): e is HttpTimeoutError => e instanceof HttpTimeoutError;

/** Worth retrying: network error, timeout, 429, 5xx — never another 4xx. */
export function isTransientHttpError(error: unknown): boolean {
  if (isHttpNetworkError(error) || isHttpTimeoutError(error)) return true;
  return isHttpStatusError(error) && (error.status === 429 || error.status >= 500);
}

/** Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
