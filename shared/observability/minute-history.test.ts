import { describe, expect, it } from 'vitest';
import { MinuteHistory } from './minute-history.js';

const MINUTE = 60_000;
const T0 = 1_000 * MINUTE; // a minute's start
const reading = (count: number, failed = 0) => ({ count, failed, buckets: [count, count] });

describe('MinuteHistory', () => {
  it('when readings are taken, then each minute holds the growth since the minute before, the current minute last', () => {
    const history = new MinuteHistory();
    history.record(T0 + 5_000, reading(2));
    history.record(T0 + 50_000, reading(10, 1)); // the minute's last reading counts
    history.record(T0 + MINUTE + 1_000, reading(12, 1));
    history.record(T0 + 3 * MINUTE, reading(20, 4)); // a minute with no reading in between

    const minutes = history.minutes(T0 + 3 * MINUTE + 30_000, 5);
    expect(minutes.map((minute) => minute.start)).toEqual([T0 - MINUTE, T0, T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE]);
    expect(minutes.map((minute) => minute.count)).toEqual([0, 10, 2, 0, 8]);
    expect(minutes.map((minute) => minute.failed)).toEqual([0, 1, 0, 0, 3]);
    expect(minutes.at(-1)!.buckets).toEqual([8, 8]);
  });

  it('when minutes pass the window, then the oldest readings are dropped but still the base of the first minute shown', () => {
    const history = new MinuteHistory(3);
    for (let i = 0; i < 10; i++) history.record(T0 + i * MINUTE, reading((i + 1) * 5));
    const minutes = history.minutes(T0 + 9 * MINUTE, 2);
    expect(minutes.map((minute) => minute.count)).toEqual([5, 5]);
  });
});
