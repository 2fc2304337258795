import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../../../../shared/logging/logger.js';
import { isDependencyUnavailable } from './dependency-unavailable.js';
import {
  isIdempotencyKeyReusedError,
  isOrderNotCancellableError,
  isOrderNotFoundError,
  isOrderRejectedError,
} from '../../domain/order-errors.js';

/** Stable problem types (RFC 9457); clients match on `type`, never on `title` or `detail`. */
export const PROBLEM_TYPES = {
  validation_error: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The body is not valid JSON' },
  idempotency_key_missing: { status: 400, title: 'An Idempotency-Key header is required' },
  idempotency_key_invalid: { status: 400, title: 'The Idempotency-Key header is not valid' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  order_not_cancellable: { status: 409, title: 'The order can no longer be cancelled' },
  idempotency_key_in_use: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  job_not_failed: { status: 409, title: 'Only a failed job can be retried' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with another request' },
  unknown_sku: { status: 422, title: 'An item is not in the catalog' },
  currency_not_offered: { status: 422, title: 'An item is not sold in that currency' },
  rate_limited: { status: 429, title: 'Too many requests' },
  service_unavailable: { status: 503, title: 'A dependency is unavailable; try again later' },
  request_timeout: { status: 503, title: 'The request took too long; try again later' },
  overloaded: { status: 503, title: 'Too many orders are in progress; retry after the delay given' },
  internal_error: { status: 500, title: 'Internal error' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export const problemTypeUri = (type: ProblemType): string => `urn:order-platform:problem:${type}`;

/** An error that is answered as the given problem. */
export class ProblemError extends Error {
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function sendProblem(res: Response, type: ProblemType, detail: string, extensions: Record<string, unknown> = {}) {
  const { status, title } = PROBLEM_TYPES[type];
  // A 503 always says when to come back: its own figure if the problem set one (overloaded), else 5 s.
  if (status === 503 && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', '5');
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: problemTypeUri(type), title, status, detail, instance: res.req.originalUrl, ...extensions }));
}

/** The one error handler: maps every error to a problem document; never leaks a stack trace. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const requestLogger = (res.locals.logger as Logger | undefined) ?? logger;
    // Already answered (the request timed out meanwhile): nothing more can be sent.
    if (res.headersSent) {
      requestLogger.warn('error after the response was sent', { error, path: req.path });
      return;
    }
    if (error instanceof ProblemError) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      return sendProblem(res, error.type, error.detail, error.extensions);
    }
    if (isOrderRejectedError(error)) return sendProblem(res, error.code, error.message, error.context);
    if (isOrderNotFoundError(error)) return sendProblem(res, 'not_found', error.message);
    if (isOrderNotCancellableError(error)) return sendProblem(res, 'order_not_cancellable', error.message);
    if (isIdempotencyKeyReusedError(error)) return sendProblem(res, 'idempotency_key_reused', error.message);
    const bodyError = error as { type?: string; status?: number };
    // The router could not percent-decode a path parameter (e.g. /orders/%ZZ): the client's fault.
    if (error instanceof URIError && bodyError.status === 400) return sendProblem(res, 'validation_error', 'the path is not validly percent-encoded');
    if (bodyError.type === 'entity.parse.failed') return sendProblem(res, 'malformed_json', 'the body could not be parsed as JSON');
    if (bodyError.type === 'entity.too.large') return sendProblem(res, 'payload_too_large', 'the body exceeds 100 kB');
    if (bodyError.type === 'encoding.unsupported' || bodyError.type === 'charset.unsupported') {
      return sendProblem(res, 'unsupported_media_type', 'unsupported body encoding');
    }
    if (isDependencyUnavailable(error)) {
      requestLogger.warn('dependency unavailable', { error, path: req.path });
      return sendProblem(res, 'service_unavailable', 'a backing service is unavailable');
    }
    requestLogger.error('unhandled error', { error, path: req.path });
    return sendProblem(res, 'internal_error', 'an unexpected error occurred');
  };
}
