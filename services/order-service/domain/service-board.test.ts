import { describe, expect, it } from 'vitest';
import type { ServiceStatus } from '../../../shared/observability/service-status.js';
import { quantileMs, ServiceBoard } from './service-board.js';

const BOUNDS = [0.01, 0.1, 1];

function status(overrides: Partial<ServiceStatus> & Pick<ServiceStatus, 'instance'>): ServiceStatus {
  return {
    service: 'payment-service',
    started_at: '2026-01-01T00:00:00.000Z',
    sent_at: '2026-01-01T00:10:00.000Z',
    interval_ms: 5_000,
    stopping: false,
    lanes: [
      { lane: 'step', queue: 'payment-service', ready: 7, consumers: 2, unacked: 3, paused: false },
      { lane: 'compensation', queue: 'payment-service.compensation', ready: 0, consumers: 2, unacked: 0, paused: false },
    ],
    retry_queues: [{ queue: 'payment-service.delay.1', ready: 1 }],
    dead_letter_queue: { queue: 'payment-service.dlq', ready: 0 },
    outbox: { unpublished: 4, oldest_age_seconds: 0.5 },
    breakers: [{ name: 'charge', state: 'closed' }],
    bucket_bounds: BOUNDS,
    minutes: [{ start: '2026-01-01T00:09:00.000Z', handled: 10, failed: 1, buckets: [2, 8, 10, 10] }],
    ...overrides,
  };
}

describe('ServiceBoard', () => {
  it('when two instances report, then lanes add their unacked and paused, circuits show the worst state, minutes add up', () => {
    let now = 100_000;
    const board = new ServiceBoard(['order-service', 'payment-service'], () => now);
    board.receive(status({ instance: 'a:1' }));
    now += 1_000;
    board.receive(
      status({
        instance: 'b:2',
        lanes: [{ lane: 'step', queue: 'payment-service', ready: 5, consumers: 1, unacked: 1, paused: true }],
        breakers: [{ name: 'charge', state: 'open' }],
      }),
    );
    const [order, payment] = board.view(new Map([['payment-service', 3]]));
    expect(order).toMatchObject({ service: 'order-service', instances_up: 0, instances: [], lanes: [], minutes: [] });
    expect(payment).toMatchObject({
      instances_up: 2,
      // The latest report's broker figures; both instances' own ones.
      lanes: [{ lane: 'step', ready: 5, consumers: 1, unacked: 4, paused_instances: 1 }],
      breakers: [{ name: 'charge', state: 'open', open_instances: 1 }],
      open_dead_letters: 3,
      minutes: [{ start: '2026-01-01T00:09:00.000Z', handled: 20, failed: 2 }],
    });
    expect(payment!.instances.map((instance) => [instance.instance, instance.paused_lanes])).toEqual([
      ['b:2', ['step']],
      ['a:1', []],
    ]);
  });

  it('when an instance says it stops or stays silent for three intervals, then it is no longer up; after 15 minutes it is forgotten', () => {
    let now = 0;
    const board = new ServiceBoard(['payment-service'], () => now);
    board.receive(status({ instance: 'a:1' }));
    board.receive(status({ instance: 'b:2', stopping: true }));
    now = 15_000;
    expect(board.view(new Map())[0]!.instances_up).toBe(1);
    now = 15_001;
    expect(board.view(new Map())[0]).toMatchObject({ instances_up: 0, instances: [{ up: false }, { up: false }] });
    now = 15 * 60_000 + 1;
    expect(board.view(new Map())[0]!.instances).toEqual([]);
  });
});

describe('quantileMs', () => {
  it('interpolates inside the bucket that holds the rank, as histogram_quantile does', () => {
    // 2 values ≤ 10 ms, 6 more ≤ 100 ms, 2 more ≤ 1 s.
    expect(quantileMs(0.5, BOUNDS, [2, 8, 10, 10])).toBeCloseTo(10 + 90 * (3 / 6));
    expect(quantileMs(0.1, BOUNDS, [2, 8, 10, 10])).toBeCloseTo(5);
    expect(quantileMs(0.95, BOUNDS, [2, 8, 10, 10])).toBeCloseTo(100 + 900 * (1.5 / 2));
    // Beyond the last bound: the last bound.
    expect(quantileMs(0.99, BOUNDS, [0, 0, 0, 4])).toBe(1000);
    expect(quantileMs(0.5, BOUNDS, [0, 0, 0, 0])).toBeNull();
  });
});
