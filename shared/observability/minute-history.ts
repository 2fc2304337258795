/** Cumulative figures of a histogram at one moment: the count, the failed ones, and each bucket's count (`le`). */
export interface Cumulative {
  count: number;
  failed: number;
  buckets: number[];
}

/** What happened in one minute: the difference of the cumulative figures at its end and at the previous one's. */
export interface MinuteFigures extends Cumulative {
  /** The minute's start, epoch milliseconds. */
  start: number;
}

const MINUTE = 60_000;

/**
 * The last minutes of a cumulative histogram, one reading kept per minute (the last one taken in
 * it), so that figures per minute can be told from counters that only grow: a minute's figures are
 * its last reading less the one before it. Minutes before the first reading count from zero (the
 * counters start at zero with the process); a minute with no reading repeats the one before it.
 */
export class MinuteHistory {
  private readonly readings = new Map<number, Cumulative>();

  constructor(private readonly keep = 16) {}

  record(now: number, reading: Cumulative): void {
    const minute = Math.floor(now / MINUTE) * MINUTE;
    this.readings.set(minute, reading);
    for (const key of this.readings.keys()) if (key <= minute - this.keep * MINUTE) this.readings.delete(key);
  }

  /** The last `count` minutes, oldest first, the current (unfinished) minute last. */
  minutes(now: number, count = 15): MinuteFigures[] {
    const current = Math.floor(now / MINUTE) * MINUTE;
    const first = current - (count - 1) * MINUTE;
    let before = this.latestBefore(first);
    const out: MinuteFigures[] = [];
    for (let start = first; start <= current; start += MINUTE) {
      const at = this.readings.get(start) ?? before;
      out.push({ start, ...difference(at, before) });
      before = at;
    }
    return out;
  }

  private latestBefore(minute: number): Cumulative | undefined {
    let latest: number | undefined;
    for (const key of this.readings.keys()) if (key < minute && (latest === undefined || key > latest)) latest = key;
    return latest === undefined ? undefined : this.readings.get(latest);
  }
}

function difference(at: Cumulative | undefined, before: Cumulative | undefined): Cumulative {
  if (!at) return { count: 0, failed: 0, buckets: [] };
  return {
    count: at.count - (before?.count ?? 0),
    failed: at.failed - (before?.failed ?? 0),
    buckets: at.buckets.map((value, i) => value - (before?.buckets[i] ?? 0)),
  };
}
