import { Type, type Static } from '@sinclair/typebox';
import { commonEnv, loadEnv } from '../../shared/config/index.js';

export const ShippingConfigSchema = Type.Object({
  ...commonEnv,
  PORT: Type.Integer({ default: 3003, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Integer({ default: 9403, minimum: 0, maximum: 65535 }),
  /** Comma-separated ISO country codes the carrier does not serve; orders to them fail shipping. */
  UNSERVICEABLE_COUNTRIES: Type.String({ default: 'AQ', pattern: '^([A-Z]{2})?(,[A-Z]{2})*$' }),
  CARRIER: Type.String({ default: 'demo-post', minLength: 1, maxLength: 50 }),
});
export type ShippingConfig = Static<typeof ShippingConfigSchema>;

export function loadShippingConfig(env: NodeJS.ProcessEnv = process.env): ShippingConfig {
  return loadEnv(ShippingConfigSchema, env);
}
