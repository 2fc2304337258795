import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';
import { redisTlsEnv } from '../../shared/config/tls-env.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import { orderRetentionEnv } from './retention-config.js';
import type { BacklogLimit } from './domain/admission-policy.js';
import { authEnv, tokenSettings } from '../../shared/auth/tokens.js';
import { ConfigError } from '../../shared/config/load-env.js';
import { identityProviderEnv, identityProviderSettings, type IdentityProviderSettings } from './entry-points/http/identity-provider.js';

export const OrderConfigSchema = Type.Object({
  ...commonEnv,
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Integer({ default: 9400, minimum: 0, maximum: 65535 }),
  /** `redis://`, or `rediss://` for TLS (checked against REDIS_TLS_CA_FILE, or Node's built-in CAs). */
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  ...redisTlsEnv,
  /** An order not completed or cancelled this long after it was placed is cancelled (and compensated). */
  SAGA_TIMEOUT_MS: Type.Integer({ default: 300_000, minimum: 1_000 }),
  /** How often the deadline sweeper looks for overdue orders. */
  DEADLINE_SWEEP_MS: Type.Integer({ default: 5_000, minimum: 100 }),
  /** Bearer tokens (HS256): secret (≥ 32 characters; the default is for local use only), iss, aud. */
  ...authEnv,
  /** Tokens of the shop's identity provider, checked against its key set (JWKS); off unless AUTH_JWKS_URL is set. */
  ...identityProviderEnv,
  /** How long an Idempotency-Key and its response are kept (Redis); orders keep the key's hash twice as long (retention-config.ts). */
  IDEMPOTENCY_TTL_S: Type.Integer({ default: 86_400, minimum: 60 }),
  /** ORDER_HISTORY_RETENTION and DEAD_LETTER_RETENTION (retention-config.ts). */
  ...orderRetentionEnv,
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
  /**
   * Admission control for POST /orders: how many orders may be accepted and not yet completed or
   * cancelled (all instances together) before new ones get 503 overloaded. `adaptive`: the orders
   * that end per second × ADMISSION_TARGET_SECONDS, at least ADMISSION_MIN_BACKLOG; a number: that
   * fixed bound; `0` or `off`: no admission control.
   */
  ADMISSION_MAX_BACKLOG: Type.Union([Type.Literal('adaptive'), Type.Literal('off'), Type.Integer({ minimum: 0 })], { default: 'adaptive' }),
  /**
   * Floor of the adaptive bound (orders let in when nothing has ended lately). Not 100: on a slow
   * day the saga runs at ~60/s here, where 100 orders in progress would mean ~1.6 s each.
   */
  ADMISSION_MIN_BACKLOG: Type.Integer({ default: 50, minimum: 1 }),
  /** The adaptive bound's aim: the mean time an order spends between accepted and ended, in seconds. */
  ADMISSION_TARGET_SECONDS: Type.Number({ default: 0.5, exclusiveMinimum: 0, maximum: 60 }),
  /** How often each instance re-reads the backlog from Postgres (ms). */
  ADMISSION_REFRESH_MS: Type.Integer({ default: 100, minimum: 10, maximum: 10_000 }),
  /** Serve the operations console at /console (its data comes from /admin/*, which stays on either way). */
  CONSOLE_ENABLED: Type.Boolean({ default: true }),
  /**
   * How long GET /products is served from the read cache (each instance's memory, then Redis);
   * every stock move drops it sooner, on every instance. 0: not cached.
   */
  CACHE_PRODUCTS_TTL_MS: Type.Integer({ default: 30_000, minimum: 0, maximum: 86_400_000 }),
  /** The same for GET /orders/:id of orders that ended (completed or cancelled). 0: not cached. */
  CACHE_ORDERS_TTL_MS: Type.Integer({ default: 60_000, minimum: 0, maximum: 86_400_000 }),
  /** Longest `wait` of GET /orders/:id?wait= (seconds): a long poll for the order's next change. */
  ORDER_WAIT_MAX_S: Type.Integer({ default: 30, minimum: 1, maximum: 300 }),
  /** Demo catalog that seeds an empty product table (names, prices, initial stock). */
  CATALOG_FILE: Type.String({ default: '' }),
});
export type OrderConfig = Static<typeof OrderConfigSchema>;

export { tokenSettings };

/** The bound of admission control, from ADMISSION_MAX_BACKLOG and its companions. */
export function backlogLimit(config: OrderConfig): BacklogLimit {
  const max = config.ADMISSION_MAX_BACKLOG;
  if (max === 'off' || max === 0) return { kind: 'off' };
  if (max === 'adaptive') return { kind: 'adaptive', min: config.ADMISSION_MIN_BACKLOG, targetSeconds: config.ADMISSION_TARGET_SECONDS };
  return { kind: 'fixed', max };
}

/** The identity provider's settings, or undefined when AUTH_JWKS_URL is empty (checked by {@link loadOrderConfig}). */
export function identityProvider(config: OrderConfig): IdentityProviderSettings | undefined {
  return identityProviderSettings(config, []);
}

export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env): OrderConfig {
  const config = loadEnv(OrderConfigSchema, env);
  const problems: string[] = [];
  identityProviderSettings(config, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { context: { problems } });
  return { ...config, CATALOG_FILE: config.CATALOG_FILE || repoPath('infra/seed/catalog.json') };
}
