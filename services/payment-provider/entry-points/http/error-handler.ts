import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '../../../../shared/logging/logger.js';
import { providerError, type ProviderResponse } from '../../domain/provider-response.js';

export function send(res: Response, response: ProviderResponse): void {
  res.status(response.status).json(response.body);
}

/** Any route the provider does not have. */
export const notFound: RequestHandler = (_req, res) => {
  send(res, providerError(404, 'invalid_request_error', 'resource_missing', 'Unrecognized request URL.'));
};

/**
 * The one error handler: a client's mistake the body parser found (malformed JSON, a body over
 * the limit, an unsupported charset) is a 4xx invalid_request_error; anything else is logged and
 * answered 500 api_error. No answer carries a stack trace or an error's own message.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const { type, status } = error as { type?: unknown; status?: unknown };
    if (res.headersSent) {
      res.socket?.destroy();
      return;
    }
    if (type === 'entity.parse.failed') {
      return send(res, providerError(400, 'invalid_request_error', 'parameter_invalid', 'Malformed JSON body.'));
    }
    if (type === 'entity.too.large') {
      return send(res, providerError(413, 'invalid_request_error', 'body_too_large', 'The body exceeds 100kb.'));
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return send(res, providerError(status, 'invalid_request_error', 'request_invalid', 'The request could not be read.'));
    }
    ((res.locals.logger as Logger | undefined) ?? logger).error('provider request failed', { error });
    send(res, providerError(500, 'api_error', 'internal_error', 'An internal error occurred.'));
  };
}
