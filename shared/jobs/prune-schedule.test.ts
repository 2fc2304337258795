import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { pruneCron } from './prune-schedule.js';

// pg-boss's own cron parser: the expressions must be ones it reads.
const cronParser = createRequire(import.meta.url)('cron-parser') as {
  parseExpression(expression: string, options: { tz: string; currentDate: Date }): { next(): { toDate(): Date } };
};
const MINUTE = 60_000;

/** The next `n` ticks of `cron` after 00:00 UTC on a fixed day, as minutes since that midnight. */
function ticks(cron: string, n: number): number[] {
  const midnight = Date.UTC(2026, 0, 1);
  const expression = cronParser.parseExpression(cron, { tz: 'UTC', currentDate: new Date(midnight - 1) });
  return Array.from({ length: n }, () => (expression.next().toDate().getTime() - midnight) / MINUTE);
}

describe('pruneCron', () => {
  it('when the interval is one minute, then the prune runs every minute', () => {
    expect(pruneCron(MINUTE, 'order-service.outbox-prune')).toBe('* * * * *');
  });

  it('when the interval is whole minutes dividing an hour, then the prune runs that often, at an offset of its own', () => {
    const cron = pruneCron(15 * MINUTE, 'order-service.outbox-prune');
    const [first, ...rest] = ticks(cron, 5);
    expect(first).toBeLessThan(15);
    expect(rest).toEqual([first! + 15, first! + 30, first! + 45, first! + 60]);
  });

  it('when the interval is an hour, then each queue has its minute of the hour, and two queues differ', () => {
    const outbox = pruneCron(60 * MINUTE, 'payment-service.outbox-prune');
    expect(outbox).toMatch(/^\d+ \* \* \* \*$/);
    expect(pruneCron(60 * MINUTE, 'payment-service.outbox-prune')).toBe(outbox);
    expect(pruneCron(60 * MINUTE, 'payment-service.inbox-prune')).not.toBe(outbox);
    const [first, second] = ticks(outbox, 2);
    expect(second! - first!).toBe(60);
  });

  it('when the interval is hours dividing a day, then the prune runs that often', () => {
    const [a, b, c] = ticks(pruneCron(6 * 60 * MINUTE, 'order-service.order-history-prune'), 3);
    expect([b! - a!, c! - b!]).toEqual([360, 360]);
    const [d, e] = ticks(pruneCron(24 * 60 * MINUTE, 'order-service.order-history-prune'), 2);
    expect(e! - d!).toBe(1_440);
  });

  it('when the interval divides neither an hour nor a day, then it throws', () => {
    expect(() => pruneCron(7 * MINUTE, 'x.prune')).toThrow(/every 420000 ms/);
    expect(() => pruneCron(5 * 60 * MINUTE, 'x.prune')).toThrow();
  });
});
