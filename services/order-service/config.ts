import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import type { TokenSettings } from './entry-points/http/auth.js';

export const OrderConfigSchema = Type.Object({
  ...commonEnv,
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** An order not completed or cancelled this long after it was placed is cancelled (and compensated). */
  SAGA_TIMEOUT_MS: Type.Integer({ default: 300_000, minimum: 1_000 }),
  /** How often the deadline sweeper looks for overdue orders. */
  DEADLINE_SWEEP_MS: Type.Integer({ default: 5_000, minimum: 100 }),
  /**
   * Secret: the HMAC key (HS256) that signs and checks the API's Bearer tokens; ≥ 32 characters.
   * The default is for local use only; `npm run token` signs with the same value.
   */
  AUTH_JWT_SECRET: Type.String({ default: 'local-only-order-api-signing-key-0123456789', minLength: 32 }),
  AUTH_JWT_ISSUER: Type.String({ default: 'order-platform', minLength: 1 }),
  AUTH_JWT_AUDIENCE: Type.String({ default: 'order-api', minLength: 1 }),
  /** How long an Idempotency-Key and its response are kept. */
  IDEMPOTENCY_TTL_S: Type.Integer({ default: 86_400, minimum: 60 }),
  /** Requests a customer may make per RATE_LIMIT_WINDOW_S (all instances together). */
  RATE_LIMIT_CUSTOMER: Type.Integer({ default: 1_200, minimum: 1 }),
  /** Requests a client address without a valid token may make per RATE_LIMIT_WINDOW_S. */
  RATE_LIMIT_ANONYMOUS: Type.Integer({ default: 60, minimum: 1 }),
  RATE_LIMIT_WINDOW_S: Type.Integer({ default: 60, minimum: 1 }),
  /**
   * Proxies whose X-Forwarded-For is believed (express `trust proxy`: comma-separated addresses,
   * CIDR ranges or `loopback`). Empty: none; the client address is the socket's.
   */
  TRUSTED_PROXIES: Type.String({ default: '' }),
  /** Origins allowed by CORS (comma-separated). Empty: no CORS headers at all. */
  CORS_ORIGINS: Type.String({ default: '' }),
  /** A request not answered in this time gets 503 request_timeout. */
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 15_000, minimum: 100 }),
  /** Demo catalog that seeds an empty product table (names, prices, initial stock). */
  CATALOG_FILE: Type.String({ default: '' }),
});
export type OrderConfig = Static<typeof OrderConfigSchema>;

export function tokenSettings(config: OrderConfig): TokenSettings {
  return { secret: config.AUTH_JWT_SECRET, issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE };
}

export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env): OrderConfig {
  const config = loadEnv(OrderConfigSchema, env);
  return { ...config, CATALOG_FILE: config.CATALOG_FILE || repoPath('infra/seed/catalog.json') };
}
