import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.js';
import type { BacklogReading } from '../data-access/backlog-repository.js';
import { BacklogMonitor } from './backlog-monitor.js';

const logger = createLogger({ service: 'order-service', level: 'silent' });
const REFRESH_MS = 100;

/** A read the test answers by hand: each call waits until `answer` or `fail` settles it. */
class ManualRead {
  calls = 0;
  private pending: { resolve: (r: BacklogReading) => void; reject: (e: Error) => void } | undefined;

  read = (): Promise<BacklogReading> => {
    this.calls += 1;
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  };

  get waiting(): boolean {
    return this.pending !== undefined;
  }

  async answer(reading: BacklogReading): Promise<void> {
    const pending = this.pending!;
    this.pending = undefined;
    pending.resolve(reading);
    await vi.advanceTimersByTimeAsync(0);
  }

  async fail(): Promise<void> {
    const pending = this.pending!;
    this.pending = undefined;
    pending.reject(new Error('connect ECONNREFUSED'));
    await vi.advanceTimersByTimeAsync(0);
  }
}

let read: ManualRead;
let monitor: BacklogMonitor;

/** Starts the monitor, its first read answered with `first`. */
async function started(first: BacklogReading, options: { staleAfterMs?: number } = {}) {
  monitor = new BacklogMonitor({ read: read.read, refreshMs: REFRESH_MS, rateWindowSeconds: 10, logger, ...options });
  const start = monitor.start();
  await read.answer(first);
  await start;
}

beforeEach(() => {
  vi.useFakeTimers();
  read = new ManualRead();
});

afterEach(async () => {
  if (read.waiting) await read.fail();
  await monitor?.stop();
  vi.useRealTimers();
});

describe('the backlog monitor', () => {
  it('when a read succeeds, then the backlog is its open orders and the rate its ended orders over the window', async () => {
    await started({ open: 12, endedInWindow: 300 });
    expect(monitor.figures()).toEqual({ backlog: 12, endedPerSecond: 30 });
  });

  it('when requests are let in between reads, then each counts at once, and until a read that started after it finished', async () => {
    await started({ open: 10, endedInWindow: 0 });
    const first = monitor.track('cus_a\nkey-1');
    const second = monitor.track('cus_a\nkey-2');
    expect(monitor.figures()?.backlog).toBe(12);

    first(); // finished before the next read starts: that read sees its commit
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(read.waiting).toBe(true);
    second(); // finished while the read runs: it may have committed after the read's snapshot
    expect(monitor.figures()?.backlog).toBe(12);
    await read.answer({ open: 11, endedInWindow: 0 });
    expect(monitor.figures()?.backlog).toBe(12); // 11 counted + key-2, kept

    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    await read.answer({ open: 12, endedInWindow: 0 });
    expect(monitor.figures()?.backlog).toBe(12); // key-2 now in the count, no longer added
  });

  it('when one key is let in several times at once (a client retrying), then it counts once while it runs', async () => {
    await started({ open: 0, endedInWindow: 0 });
    const releases = [monitor.track('cus_a\nsame'), monitor.track('cus_a\nsame'), monitor.track('cus_a\nsame')];
    expect(monitor.figures()?.backlog).toBe(1);
    for (const release of releases) release();
    releases[0]!(); // a second call changes nothing
    expect(monitor.figures()?.backlog).toBe(1);
  });

  it('when a read is slow, then no second read starts until it has ended', async () => {
    await started({ open: 0, endedInWindow: 0 });
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(read.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 20);
    expect(read.calls).toBe(2);
    await read.answer({ open: 1, endedInWindow: 0 });
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(read.calls).toBe(3);
  });

  it('when reads fail, then the last figures (and what was let in since) hold until they are stale, then admission fails open', async () => {
    await started({ open: 40, endedInWindow: 50 }, { staleAfterMs: 1_000 });
    monitor.track('cus_a\nk')();
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    await read.fail();
    expect(monitor.figures()).toEqual({ backlog: 41, endedPerSecond: 5 });
    for (let i = 0; i < 10; i += 1) {
      await vi.advanceTimersByTimeAsync(REFRESH_MS);
      if (read.waiting) await read.fail();
    }
    expect(monitor.figures()).toBeUndefined();

    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    await read.answer({ open: 3, endedInWindow: 0 });
    expect(monitor.figures()).toEqual({ backlog: 3, endedPerSecond: 0 });
  });

  it('when stopped, then it waits for the read under way and reads no more', async () => {
    await started({ open: 0, endedInWindow: 0 });
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    let stopped = false;
    const stopping = monitor.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    await read.answer({ open: 0, endedInWindow: 0 });
    await stopping;
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 10);
    expect(read.calls).toBe(2);
  });
});
