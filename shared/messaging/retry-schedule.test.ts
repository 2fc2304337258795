import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './retry-schedule.js';

describe('retry schedule', () => {
  it('when attempts grow, then the delay ceiling doubles and the jitter stays within [d/2, d]', () => {
    const base = { baseDelayMs: 100 };
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, base, () => 1))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, base, () => 0))).toEqual([50, 100, 200, 400]);
  });

  it('when the ceiling passes the cap, then the cap holds', () => {
    expect(retryDelayMs(30, { baseDelayMs: 1000, maxDelayMs: 60_000 }, () => 1)).toBe(60_000);
  });
});
