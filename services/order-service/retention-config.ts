import { Type } from '@sinclair/typebox';
import { durationSetting, RETENTION_PATTERN } from '../../shared/config/retention-env.js';

/** order-service's own retentions: the saga history of ended orders, and the dead-letter archive it hosts. */
export const orderRetentionEnv = {
  /** The history of an order that ended (completed or cancelled) is kept this long, then deleted; the order stays. */
  ORDER_HISTORY_RETENTION: Type.String({ default: '365d', pattern: RETENTION_PATTERN }),
  /** A dead letter someone purged or replayed is kept this long, then deleted; one nobody handled stays. */
  DEAD_LETTER_RETENTION: Type.String({ default: '30d', pattern: RETENTION_PATTERN }),
};

/** What order-service's prunes keep, in milliseconds, and how often they run. */
export interface OrderRetention {
  historyMs: number;
  deadLetterMs: number;
  /**
   * How long an order keeps its Idempotency-Key hash: twice IDEMPOTENCY_TTL_S. The key's record in
   * Redis lives IDEMPOTENCY_TTL_S from the response, which follows the order's insert by one
   * request's run time, far less than another TTL: so within the TTL the orders table still holds
   * the key even if Redis lost its records, and after twice the TTL the key is forgotten everywhere.
   */
  idempotencyKeyMs: number;
  intervalMs: number;
}

/** order-service's retentions from its configuration (the schema has checked their format). */
export function orderRetention(config: {
  ORDER_HISTORY_RETENTION: string;
  DEAD_LETTER_RETENTION: string;
  IDEMPOTENCY_TTL_S: number;
  RETENTION_INTERVAL: string;
}): OrderRetention {
  return {
    historyMs: durationSetting('ORDER_HISTORY_RETENTION', config.ORDER_HISTORY_RETENTION),
    deadLetterMs: durationSetting('DEAD_LETTER_RETENTION', config.DEAD_LETTER_RETENTION),
    idempotencyKeyMs: 2 * config.IDEMPOTENCY_TTL_S * 1000,
    intervalMs: durationSetting('RETENTION_INTERVAL', config.RETENTION_INTERVAL),
  };
}
