import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './load-env.js';
import { durationSetting, retentionEnv } from './retention-env.js';

const schema = Type.Object(retentionEnv);

describe('retention settings', () => {
  it('when nothing is set, then outbox and inbox rows are kept 7 days and the prunes run hourly', () => {
    const config = loadEnv(schema, {});
    expect(config).toEqual({ OUTBOX_RETENTION: '7d', INBOX_RETENTION: '7d', RETENTION_INTERVAL: '1h' });
    expect(durationSetting('INBOX_RETENTION', config.INBOX_RETENTION)).toBe(7 * 86_400_000);
  });

  it('when short durations are set (a soak), then they are read as such', () => {
    const config = loadEnv(schema, { OUTBOX_RETENTION: '90s', INBOX_RETENTION: '5m', RETENTION_INTERVAL: '1m' });
    expect(durationSetting('OUTBOX_RETENTION', config.OUTBOX_RETENTION)).toBe(90_000);
    expect(durationSetting('RETENTION_INTERVAL', config.RETENTION_INTERVAL)).toBe(60_000);
  });

  it.each([
    ['INBOX_RETENTION', '7', 'a bare number (days or seconds?)'],
    ['OUTBOX_RETENTION', '0d', 'zero'],
    ['OUTBOX_RETENTION', '500ms', 'milliseconds'],
    ['RETENTION_INTERVAL', '7m', 'a period no cron expression ticks at evenly'],
    ['RETENTION_INTERVAL', '5h', 'hours that do not divide a day'],
  ])('when %s is %s (%s), then the configuration is refused, naming it', (name, value) => {
    expect(() => loadEnv(schema, { [name]: value })).toThrow(new RegExp(`invalid configuration: ${name}`));
  });
});
