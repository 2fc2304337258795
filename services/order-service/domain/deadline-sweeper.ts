import type { UnitOfWork } from '../../../shared/db/unit-of-work.js';
import type { JobDefinition } from '../../../shared/jobs/job-runner.js';
import type { Logger } from '../../../shared/logging/logger.js';
import { cancelOverdue } from './cancel-order.js';
import { UNOBSERVED, type OrderObserver } from './order-observer.js';

/**
 * Every order ends: periodically cancels (with compensations) the open orders whose deadline has
 * passed. Deadlines live in Postgres, so a restart loses none; sweepers on several instances share
 * the work without taking the same order twice.
 *
 * The periodic pass stays a timer rather than a recurring job: it must run every few seconds
 * (DEADLINE_SWEEP_MS), where job schedules tick once a minute at best, and it is already durable
 * (the deadlines are rows) and safe on any number of instances (`FOR UPDATE SKIP LOCKED`), so a
 * job would add a row per pass and nothing else. It is also a job (`deadline-sweep`), for an
 * operator who wants a pass now (`npm run jobs -- run deadline-sweep`).
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly observer: OrderObserver = UNOBSERVED,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.pass ??= this.sweep().finally(() => (this.pass = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  /** One pass: cancels overdue orders in batches until none is left. */
  async sweep(): Promise<void> {
    try {
      await this.cancelAllOverdue();
    } catch (error) {
      this.logger.warn('deadline sweep failed; next pass retries', { error });
    }
  }

  /** The on-demand pass as a job: its output is the number of orders it cancelled. */
  job(): JobDefinition<object> {
    return { name: 'deadline-sweep', retryLimit: 0, run: async () => ({ cancelled: await this.cancelAllOverdue() }) };
  }

  private async cancelAllOverdue(): Promise<number> {
    let total = 0;
    for (;;) {
      const cancelled = await cancelOverdue(this.unitOfWork, 100, this.observer);
      total += cancelled;
      if (cancelled > 0) this.logger.warn('overdue orders cancelled', { count: cancelled });
      if (cancelled < 100) return total;
    }
  }
}
