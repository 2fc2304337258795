import { Redis } from 'ioredis';
import type { TlsClientOptions } from '../../../shared/config/tls-options.js';
import type { Logger } from '../../../shared/logging/logger.js';
import { tlsFailure } from '../../../shared/startup/tls-failure.js';

/**
 * Connects the Redis client of the idempotency keys and rate limits. Commands fail fast instead of
 * queueing without bound while Redis is down. `tls` (for a `rediss://` URL) is handed to
 * `tls.connect`, which checks the server's certificate and host name against it. A first connect
 * that fails stops the client's retries and throws (a TLS failure as a DependencyTlsError).
 */
export async function connectRedis(options: { url: string; tls?: TlsClientOptions; logger: Logger }): Promise<Redis> {
  const redis = new Redis(options.url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  // ioredis reports why a connect failed here; connect() itself only says the connection closed.
  let lastError: unknown;
  redis.on('error', (error) => {
    lastError = error;
    options.logger.warn('redis error', { error });
  });
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw tlsFailure('Redis', options.url, lastError ?? error) ?? error;
  }
}
