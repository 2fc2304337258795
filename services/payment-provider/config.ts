import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';

const { NAMESPACE, DATABASE_URL, LOG_LEVEL, DB_POOL_SIZE, HOST } = commonEnv;

export const PaymentProviderConfigSchema = Type.Object({
  NAMESPACE,
  DATABASE_URL,
  LOG_LEVEL,
  DB_POOL_SIZE,
  HOST,
  PORT: Type.Integer({ default: 4010, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Integer({ default: 9410, minimum: 0, maximum: 65535 }),
  /** Secret: the key clients send as `Authorization: Bearer …`. The default is for local use only. */
  PAYMENT_PROVIDER_API_KEY: Type.String({ default: 'sk_test_local_provider_key', minLength: 8 }),
  /** Enables GET/PUT /_faults (latency, error rate, hang, commit-then-fail). Off in normal use. */
  FAULT_INJECTION_ENABLED: Type.Boolean({ default: false }),
});
export type PaymentProviderConfig = Static<typeof PaymentProviderConfigSchema>;

export function loadPaymentProviderConfig(env: NodeJS.ProcessEnv = process.env): PaymentProviderConfig {
  return loadEnv(PaymentProviderConfigSchema, env);
}

/** The Postgres schema of the provider's ledger. */
export const providerSchema = (config: Pick<PaymentProviderConfig, 'NAMESPACE'>): string => `${config.NAMESPACE}payment_provider`;
