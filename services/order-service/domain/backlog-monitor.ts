import type { Logger } from '../../../shared/logging/logger.js';
import type { BacklogReading } from '../data-access/backlog-repository.js';

export interface BacklogFigures {
  /** Orders accepted and not yet ended: Postgres' last count plus what this instance took since. */
  backlog: number;
  /** Orders that ended per second, over the rate window. */
  endedPerSecond: number;
}

export interface BacklogMonitorOptions {
  /** One read of the shared figures (one statement in Postgres). */
  read: (windowSeconds: number) => Promise<BacklogReading>;
  /** Pause between the end of one read and the start of the next. */
  refreshMs: number;
  /** Span over which the completion rate is measured. @defaultValue 10 */
  rateWindowSeconds?: number;
  /** Figures older than this are not trusted and admission fails open. @defaultValue max(5 000, 20 × refreshMs) */
  staleAfterMs?: number;
  logger: Logger;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * What admission control knows of the saga backlog. Counted in Postgres, so that every instance of
 * order-service sees the same figure: a refresher re-reads it every `refreshMs`, one read at a
 * time (the next is scheduled when the last has ended, so slow reads never pile up).
 *
 * Between two reads, the requests this instance let in are added to the last count, or a burst
 * could overshoot the bound by everything that arrives in one refresh period. A request counts
 * while it runs, and after it finished until a read that started after it finished has succeeded:
 * a read that started earlier may have missed its commit. Requests are counted by Idempotency-Key,
 * so that one client's retries of one order count once. This over-counts (a request that failed
 * or was a replay wrote nothing) for one refresh period at most, never under-counts; other
 * instances' orders are seen at the next read.
 *
 * Figures that could not be refreshed for `staleAfterMs` are dropped and admission fails open,
 * deliberately: what is bounded lives in Postgres, and when Postgres cannot be read it cannot be
 * written either, so the orders let through cannot grow the backlog (they are answered 503
 * service_unavailable by the API's error handler, as before); failing closed would instead turn a
 * fault of this refresher alone into refusing every order. Until then, the last count plus the
 * local ones keep holding the bound.
 */
export class BacklogMonitor {
  private readonly windowSeconds: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private reading: { open: number; endedPerSecond: number; at: number } | undefined;
  /** Requests let in and still running, by key (a key may run more than once at a time). */
  private readonly running = new Map<string, number>();
  /** Finished before the current read started (and after the start of the last good one). */
  private finishedBefore = new Set<string>();
  /** Finished since the current (or last) read started. */
  private finishedSince = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly options: BacklogMonitorOptions) {
    this.windowSeconds = options.rateWindowSeconds ?? 10;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(5_000, 20 * options.refreshMs);
    this.now = options.now ?? Date.now;
  }

  /** Reads the figures once (so they are known when the API opens), then keeps them fresh. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.runRefresh();
    this.schedule();
  }

  /** Stops refreshing; resolves once a read under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /** The current figures; undefined when they are unknown or stale (admission then fails open). */
  figures(): BacklogFigures | undefined {
    if (!this.reading || this.now() - this.reading.at > this.staleAfterMs) return undefined;
    return {
      backlog: this.reading.open + this.running.size + this.finishedBefore.size + this.finishedSince.size,
      endedPerSecond: this.reading.endedPerSecond,
    };
  }

  /** Counts a request that was let in; call the returned function once when it has finished. */
  track(key: string): () => void {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else this.running.delete(key);
      this.finishedSince.add(key);
    };
  }

  /** One read of the figures; only ever called through runRefresh, so one runs at a time. */
  private async refresh(): Promise<void> {
    // What finishes from now on may commit after this read's snapshot: kept apart, and kept.
    for (const key of this.finishedSince) this.finishedBefore.add(key);
    this.finishedSince = new Set();
    try {
      const reading = await this.options.read(this.windowSeconds);
      this.reading = { open: reading.open, endedPerSecond: reading.endedInWindow / this.windowSeconds, at: this.now() };
      // Everything that finished before this read started had committed by its snapshot.
      this.finishedBefore = new Set();
      if (this.failing) this.options.logger.info('backlog figures read again; admission control is back');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.options.logger.warn('backlog figures could not be read; admission control fails open once they are stale', {
          error,
          stale_after_ms: this.staleAfterMs,
        });
      }
      this.failing = true;
    }
  }

  private runRefresh(): Promise<void> {
    this.inFlight = this.refresh().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runRefresh().then(() => this.schedule());
    }, this.options.refreshMs);
    this.timer.unref();
  }
}
