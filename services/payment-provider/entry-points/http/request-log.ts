import { randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from '../../../../shared/logging/logger.js';

/** The request's logger (carrying its request id), set by {@link requestLog}. */
export function requestLogger(res: Response): Logger {
  return res.locals.logger as Logger;
}

/**
 * Gives every request an id (`req_…`, echoed as `Request-Id`, as Stripe does) and logs one line
 * when it ends: writes at info, reads at debug, 5xx at warn; a request closed before any answer
 * (a hang its client aborted) at debug. Only method, path, status and timing are logged: never
 * headers (the API key) nor the body (the card token).
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    res.setHeader('Request-Id', requestId);
    const log = logger.child({ request_id: requestId });
    res.locals.logger = log;
    const started = process.hrtime.bigint();
    const fields = () => ({
      method: req.method,
      path: req.path,
      status: res.statusCode,
      duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
      ...(res.getHeader('Idempotent-Replayed') ? { idempotent_replayed: true } : {}),
    });
    res.once('close', () => {
      if (!res.writableFinished) return log.debug('request closed before an answer', { ...fields(), status: undefined });
      if (res.statusCode >= 500) return log.warn('request failed', fields());
      if (req.method === 'GET') return log.debug('request', fields());
      log.info('request', fields());
    });
    next();
  };
}
