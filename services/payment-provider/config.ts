import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';

const { NAMESPACE, DATABASE_URL, LOG_LEVEL, DB_POOL_SIZE, HOST, JOBS_POLL_MS, RETENTION_INTERVAL } = commonEnv;

export const PaymentProviderConfigSchema = Type.Object({
  NAMESPACE,
  DATABASE_URL,
  LOG_LEVEL,
  DB_POOL_SIZE,
  HOST,
  /** The provider's one job, the prune of expired Idempotency-Keys, runs on pg-boss like the services' jobs. */
  JOBS_POLL_MS,
  RETENTION_INTERVAL,
  PORT: Type.Integer({ default: 4010, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Integer({ default: 9410, minimum: 0, maximum: 65535 }),
  /** Secret: the key clients send as `Authorization: Bearer …`. The default is for local use only. */
  PAYMENT_PROVIDER_API_KEY: Type.String({ default: 'sk_test_local_provider_key', minLength: 8 }),
  /** Enables GET/PUT /_faults (latency, error rate, hang, commit-then-fail). Off in normal use. */
  FAULT_INJECTION_ENABLED: Type.Boolean({ default: false }),
  /**
   * How long an Idempotency-Key's record is kept; after it the key may be used afresh. Stripe keeps
   * keys 24 hours; shorter only for tests and the bench's soak. payment-service's retries of one
   * charge, and its look-ups of an unknown outcome, must end well within it.
   */
  IDEMPOTENCY_TTL_S: Type.Integer({ default: 86_400, minimum: 60 }),
});
export type PaymentProviderConfig = Static<typeof PaymentProviderConfigSchema>;

export function loadPaymentProviderConfig(env: NodeJS.ProcessEnv = process.env): PaymentProviderConfig {
  return loadEnv(PaymentProviderConfigSchema, env);
}

/** The Postgres schema of the provider's ledger. */
export const providerSchema = (config: Pick<PaymentProviderConfig, 'NAMESPACE'>): string => `${config.NAMESPACE}payment_provider`;
