import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';

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
});
export type PaymentConfig = Static<typeof PaymentConfigSchema>;

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env): PaymentConfig {
  return loadEnv(PaymentConfigSchema, env);
}
