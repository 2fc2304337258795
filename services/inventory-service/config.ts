import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';
import { repoPath } from '../../shared/startup/repo-path.js';

export const InventoryConfigSchema = Type.Object({
  ...commonEnv,
  PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Integer({ default: 9401, minimum: 0, maximum: 65535 }),
  /** Demo catalog whose stock seeds an empty stock table. */
  CATALOG_FILE: Type.String({ default: '' }),
});
export type InventoryConfig = Static<typeof InventoryConfigSchema>;

export function loadInventoryConfig(env: NodeJS.ProcessEnv = process.env): InventoryConfig {
  const config = loadEnv(InventoryConfigSchema, env);
  return { ...config, CATALOG_FILE: config.CATALOG_FILE || repoPath('infra/seed/catalog.json') };
}
