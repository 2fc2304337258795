import { Type } from '@sinclair/typebox';
import { parseDuration } from './durations.js';
import { ConfigError } from './load-env.js';

/** How long rows are kept: a whole number of seconds, minutes, hours or days, above zero (`90s`, `30m`, `7d`). */
export const RETENTION_PATTERN = '^[1-9][0-9]{0,8}(s|m|h|d)$';

/** How often prunes run: periods a cron expression ticks at evenly (minutes dividing an hour, hours dividing a day). */
export const RETENTION_INTERVAL_PATTERN = '^((1|2|3|4|5|6|10|12|15|20|30|60)m|(1|2|3|4|6|8|12|24)h)$';

/**
 * The retention of the tables every message-driven service has (outbox, inbox) and how often the
 * service's prunes run; services spread these into their own schema (through `commonEnv`).
 */
export const retentionEnv = {
  /** Published outbox rows are kept this long (audits, invariant checks), then deleted by the `outbox-prune` job. */
  OUTBOX_RETENTION: Type.String({ default: '7d', pattern: RETENTION_PATTERN }),
  /**
   * Ids of applied events (the inbox) are kept this long, then deleted by the `inbox-prune` job. A
   * copy of an event that arrives after its id is gone would be applied again: this is the window
   * of deduplication, and it must outlast any redelivery and any replay of a dead letter (README,
   * "Retention").
   */
  INBOX_RETENTION: Type.String({ default: '7d', pattern: RETENTION_PATTERN }),
  /** How often the service's prunes run: `1m` … `60m` dividing an hour, or `1h` … `24h` dividing a day. */
  RETENTION_INTERVAL: Type.String({ default: '1h', pattern: RETENTION_INTERVAL_PATTERN }),
};

/** A retention or interval variable, already matched against its pattern by the schema, in milliseconds. */
export function durationSetting(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms === 0) throw new ConfigError(`invalid configuration: ${name}: ${text} is not a duration such as 30m, 12h or 7d`);
  return ms;
}
