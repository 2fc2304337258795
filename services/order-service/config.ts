import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';
import { repoPath } from '../../shared/startup/repo-path.js';

export const OrderConfigSchema = Type.Object({
  ...commonEnv,
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** An order not completed or cancelled this long after it was placed is cancelled (and compensated). */
  SAGA_TIMEOUT_MS: Type.Integer({ default: 300_000, minimum: 1_000 }),
  /** How often the deadline sweeper looks for overdue orders. */
  DEADLINE_SWEEP_MS: Type.Integer({ default: 5_000, minimum: 100 }),
  /**
   * Secret: enables the operations endpoints (/admin/dead-letters) for callers sending it as
   * `X-Admin-Token`. Unset: those endpoints answer 403.
   */
  ADMIN_API_TOKEN: Type.String({ default: '' }),
  /** Demo catalog that seeds an empty product table (names, prices, initial stock). */
  CATALOG_FILE: Type.String({ default: '' }),
});
export type OrderConfig = Static<typeof OrderConfigSchema>;

export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env): OrderConfig {
  const config = loadEnv(OrderConfigSchema, env);
  return { ...config, CATALOG_FILE: config.CATALOG_FILE || repoPath('infra/seed/catalog.json') };
}
