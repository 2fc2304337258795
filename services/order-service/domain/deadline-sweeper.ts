import type { UnitOfWork } from '../../../shared/db/unit-of-work.js';
import type { Logger } from '../../../shared/logging/logger.js';
import { cancelOverdue } from './cancel-order.js';
import { UNOBSERVED, type OrderObserver } from './order-observer.js';

/**
 * Every order ends: periodically cancels (with compensations) the open orders whose deadline has
 * passed. Deadlines live in Postgres, so a restart loses none; sweepers on several instances share
 * the work without taking the same order twice.
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
      for (;;) {
        const cancelled = await cancelOverdue(this.unitOfWork, 100, this.observer);
        if (cancelled > 0) this.logger.warn('overdue orders cancelled', { count: cancelled });
        if (cancelled < 100) return;
      }
    } catch (error) {
      this.logger.warn('deadline sweep failed; next pass retries', { error });
    }
  }
}
