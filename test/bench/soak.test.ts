import { describe, expect, it } from 'vitest';
import { rssTrends } from './soak.js';

const MINUTE_MS = 60_000;

/** A sample every 10 s for `minutes`, the RSS of one process given by `mb(at)`. */
function samples(minutes: number, mb: (at: number) => number) {
  return Array.from({ length: minutes * 6 }, (_, i) => ({ at: i * 10_000, rss: { svc: mb(i * 10_000) } }));
}

describe('soak memory trends', () => {
  it('when RSS grows 1 MB a minute, then the growth reads 10 MB per 10 minutes and each minute is 1 MB above the last', () => {
    const trend = rssTrends(samples(10, (at) => 100 + at / MINUTE_MS), 10 * MINUTE_MS).svc!;
    expect(trend.growthMbPer10Min).toBeCloseTo(10, 1);
    expect(trend.perMinuteMb.map(Math.round)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(trend.firstMinuteAvgMb).toBeCloseTo(100.4, 1);
    expect(trend.maxMb).toBeCloseTo(109.8, 1);
  });

  it('when RSS steps up during the first minute and then stays level, then no growth is reported', () => {
    const trend = rssTrends(samples(10, (at) => (at < 30_000 ? 80 : 110)), 10 * MINUTE_MS).svc!;
    expect(trend.growthMbPer10Min).toBe(0);
    expect(trend.perMinuteMb).toEqual([95, 110, 110, 110, 110, 110, 110, 110, 110, 110]);
    expect(trend.lastMinuteAvgMb).toBe(110);
  });
});
