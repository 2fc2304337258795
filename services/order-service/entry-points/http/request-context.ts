import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../../../../shared/logging/logger.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane), echoes it, and puts a
 * logger carrying it in `res.locals.logger`; logs one line per request when it finishes.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const requestLogger = logger.child({ request_id: requestId });
    res.locals.logger = requestLogger;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const fields = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        ...(res.locals.orderId ? { correlation_id: res.locals.orderId as string } : {}),
      };
      // A refusal by admission control is the API doing its job, not a failure (admission.ts logs a
      // summary of them); at warn, each would add a log line just when the service is busiest.
      if (res.statusCode >= 500 && !res.locals.overloaded) requestLogger.warn('request failed', fields);
      else requestLogger.debug('request', fields);
    });
    next();
  };
}
