import { Gauge } from 'prom-client';
import type { MetricsRegistry } from '../../../shared/observability/metrics.js';
import type { Change, ChangeFeed, ChangeListener } from './change-feed.js';

/**
 * One wait for an order's next change: `changed` resolves then (`changed`: read the order again),
 * or when the service stops (`closing`: answer now); `cancel` when no longer waiting.
 */
export interface OrderWait {
  changed: Promise<'changed' | 'closing'>;
  cancel(): void;
}

/**
 * Clients waiting for an order to change (`GET /orders/:id?wait=`), woken by the change feed,
 * whichever instance applied the change. While the feed is down nothing announces changes, so a
 * wait begun then wakes after `pollMs` instead, for the caller to read the order again.
 */
export class OrderWaits implements ChangeListener {
  private readonly waiting = new Map<string, Set<(why: 'changed' | 'closing') => void>>();
  private closing = false;
  private readonly pollMs: number;

  constructor(
    private readonly feed: Pick<ChangeFeed, 'connected' | 'listen'>,
    options: { pollMs?: number; metrics?: MetricsRegistry } = {},
  ) {
    this.pollMs = options.pollMs ?? 1_000;
    feed.listen(this);
    if (options.metrics) {
      const waits = this;
      new Gauge({
        name: 'order_waits',
        help: 'Clients waiting for an order\'s next change (GET /orders/:id?wait=), now.',
        registers: [options.metrics],
        collect() {
          this.set(waits.size);
        },
      });
    }
  }

  /** How many clients wait now (`order_waits`). */
  get size(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }

  /** Begin before reading the order: a change committed after this call wakes it. */
  next(orderId: string): OrderWait {
    if (this.closing) return { changed: Promise.resolve('closing'), cancel: () => undefined };
    let wake!: (why: 'changed' | 'closing') => void;
    const changed = new Promise<'changed' | 'closing'>((resolve) => (wake = resolve));
    let set = this.waiting.get(orderId);
    if (!set) this.waiting.set(orderId, (set = new Set()));
    set.add(wake);
    const poll = this.feed.connected ? undefined : setTimeout(() => wake('changed'), this.pollMs);
    return {
      changed,
      cancel: () => {
        clearTimeout(poll);
        const current = this.waiting.get(orderId);
        current?.delete(wake);
        if (current?.size === 0) this.waiting.delete(orderId);
      },
    };
  }

  changed(change: Change): void {
    if (change.kind !== 'order') return;
    for (const wake of this.waiting.get(change.orderId) ?? []) wake('changed');
  }

  resync(): void {
    for (const set of this.waiting.values()) for (const wake of set) wake('changed');
  }

  /** The service stops: every wait, now and later, ends at once, for its client to be answered. */
  close(): void {
    this.closing = true;
    for (const set of this.waiting.values()) for (const wake of set) wake('closing');
  }
}
