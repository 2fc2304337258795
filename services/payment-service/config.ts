import { Type, type Static } from '@sinclair/typebox';
import { authEnv } from '../../shared/auth/tokens.js';
import { ConfigError, commonEnv, cronEvery, loadEnv, parseDuration } from '../../shared/config/index.js';

export const PaymentConfigSchema = Type.Object({
  ...commonEnv,
  PORT: Type.Integer({ default: 3002, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Integer({ default: 9402, minimum: 0, maximum: 65535 }),
  /** More attempts than the other services: a provider outage should delay charges, not dead-letter them. */
  MESSAGE_MAX_ATTEMPTS: Type.Integer({ default: 10, minimum: 1, maximum: 20 }),
  PAYMENT_PROVIDER_URL: Type.String({ default: 'http://127.0.0.1:4010' }),
  /** Secret: the provider's API key, sent as a Bearer token. */
  PAYMENT_PROVIDER_API_KEY: Type.String({ default: 'sk_test_local_provider_key', minLength: 1 }),
  /** Per-request timeout; the request is aborted (socket closed) when it passes. */
  PAYMENT_PROVIDER_TIMEOUT_MS: Type.Integer({ default: 3_000, minimum: 50 }),
  /** Breaker: failures (network, timeout, 5xx, 429 — never declines) in the window that open it. */
  BREAKER_FAILURE_THRESHOLD: Type.Integer({ default: 5, minimum: 1 }),
  /** Breaker: how long it stays open before letting one trial call through. */
  BREAKER_RESET_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100 }),
  /**
   * Provider calls of each operation in flight at once (charges, refunds, look-ups): each has its own
   * limit and its own circuit breaker, so slow or failing charges never hold up refunds. The HTTP
   * client opens up to their sum of connections.
   */
  PROVIDER_CHARGE_CONCURRENCY: Type.Integer({ default: 32, minimum: 1, maximum: 1000 }),
  PROVIDER_REFUND_CONCURRENCY: Type.Integer({ default: 16, minimum: 1, maximum: 1000 }),
  PROVIDER_LOOKUP_CONCURRENCY: Type.Integer({ default: 16, minimum: 1, maximum: 1000 }),
  /**
   * Provider calls of each operation that may wait for one of its slots (their timeout not yet
   * started); a call beyond them fails at once as unavailable, nothing sent, and its message is
   * retried later, as while a circuit is open. 64 is more than can wait at the default prefetches
   * (32 step and 16 compensation handlers, plus 8 reconciliation look-ups), so at the defaults no
   * call is refused, as before the queue had a bound; 0: no waiting.
   */
  PROVIDER_MAX_QUEUED: Type.Integer({ default: 64, minimum: 0, maximum: 100_000 }),
  /**
   * How often the reconciliation runs: whole minutes that divide an hour (`5m`, `15m`) or hours that
   * divide a day (`1h`, `6h`); `off`: only when asked.
   */
  RECONCILE_INTERVAL: Type.String({ default: '5m' }),
  /** A disagreement a saga in flight may explain counts once its payment row has been still this long. */
  RECONCILE_GRACE: Type.String({ default: '5m' }),
  /** order-service, asked what became of an order whose charge no payment row accounts for. */
  ORDER_SERVICE_URL: Type.String({ default: 'http://127.0.0.1:3000' }),
  /** The order API's token settings, to sign the admin token those questions carry. */
  ...authEnv,
});
export type PaymentConfig = Static<typeof PaymentConfigSchema>;

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env): PaymentConfig {
  const config = loadEnv(PaymentConfigSchema, env);
  reconcileSchedule(config);
  reconcileGraceMs(config);
  return config;
}

/** RECONCILE_INTERVAL as a cron expression (UTC), or null for `off`. */
export function reconcileSchedule(config: Pick<PaymentConfig, 'RECONCILE_INTERVAL'>): string | null {
  if (config.RECONCILE_INTERVAL === 'off' || config.RECONCILE_INTERVAL === '0') return null;
  const ms = parseDuration(config.RECONCILE_INTERVAL);
  const cron = ms === null ? null : cronEvery(ms);
  if (!cron) {
    throw new ConfigError(
      `invalid configuration: RECONCILE_INTERVAL: ${config.RECONCILE_INTERVAL} is not whole minutes dividing an hour (5m, 15m) or hours dividing a day (1h, 6h), or off`,
    );
  }
  return cron;
}

export function reconcileGraceMs(config: Pick<PaymentConfig, 'RECONCILE_GRACE'>): number {
  const ms = parseDuration(config.RECONCILE_GRACE);
  if (ms === null) throw new ConfigError(`invalid configuration: RECONCILE_GRACE: ${config.RECONCILE_GRACE} is not a duration such as 90s, 5m or 1h`);
  return ms;
}
