import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceView } from '../../services/order-service/domain/service-board.js';
import type { ServiceStatus } from '../../shared/observability/service-status.js';
import { OrderApi } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The Services page's data: every instance reports its status on the status exchange, and
 * `GET /admin/services` shows each service from those reports — instances, lanes, queues, outbox,
 * circuit breakers, the last minutes' throughput — with the archive's waiting dead letters.
 */
let stack: TestStack;
let admin: OrderApi;
let customer: OrderApi;

beforeAll(async () => {
  stack = await TestStack.start({
    STATUS_INTERVAL_MS: '300',
    PAYMENT_PROVIDER_TIMEOUT_MS: '500',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_RESET_TIMEOUT_MS: '1000',
  });
  admin = new OrderApi(stack, 'admin');
  customer = new OrderApi(stack, 'cus_service_status');
});

afterAll(async () => {
  if (!EXTERNAL_STACK) await stack?.setProviderFaults({}).catch(() => undefined);
  await stack?.stop();
});

async function services(): Promise<Map<string, ServiceView>> {
  const response = await admin.request('GET', '/admin/services');
  if (response.status !== 200) throw new Error(`GET /admin/services answered ${response.status}`);
  const { data } = (await response.json()) as { data: ServiceView[] };
  return new Map(data.map((view) => [view.service, view]));
}

const service = async (name: string) => (await services()).get(name)!;

describe.skipIf(EXTERNAL_STACK)('service status', () => {
  it('when the stack runs and orders flow, then each service shows its instance, lanes, queues, outbox and the minute’s throughput', async () => {
    const placed = await Promise.all(Array.from({ length: 4 }, () => customer.place()));
    for (const order of placed) expect((await customer.settled(order.id, 30_000)).status).toBe('completed');

    const all = await waitFor(
      async () => {
        const views = await services();
        const handled = [...views.values()].every((view) => (view.minutes.at(-1)?.handled ?? 0) + (view.minutes.at(-2)?.handled ?? 0) >= 4);
        return handled ? views : undefined;
      },
      { timeoutMs: 10_000, what: 'every service to report the messages it handled' },
    );
    expect([...all.keys()].sort()).toEqual(['inventory-service', 'order-service', 'payment-service', 'shipping-service']);
    for (const [name, view] of all) {
      expect(view.instances_up, name).toBe(1);
      expect(view.instances[0]).toMatchObject({ up: true, paused_lanes: [] });
      expect(view.instances[0]!.instance).toMatch(/^.+:\d+(#\d+)?$/);
      // Both lanes, each with this instance's consumer on it, as the broker counts them.
      expect(view.lanes.map((lane) => lane.lane), name).toEqual(['step', 'compensation']);
      for (const lane of view.lanes) expect(lane).toMatchObject({ queue: expect.stringContaining(name), consumers: 1, paused_instances: 0 });
      expect(view.retry_queues.length, name).toBeGreaterThan(0);
      expect(view.retry_queues.every((queue) => queue.ready === 0)).toBe(true);
      expect(view.dead_letter_queue).toMatchObject({ queue: expect.stringMatching(/\.dlq$/), ready: expect.any(Number) });
      expect(view.outbox.unpublished).toEqual(expect.any(Number));
      expect(view.minutes).toHaveLength(15);
      const busy = view.minutes.filter((minute) => minute.handled > 0);
      expect(busy.length, name).toBeGreaterThan(0);
      for (const minute of busy) expect(minute.p95_ms!).toBeGreaterThanOrEqual(minute.p50_ms!);
    }
    const breakers = all.get('payment-service')!.breakers;
    expect(breakers.map((breaker) => breaker.name)).toContain('payment-provider-charge');
    expect(breakers.every((breaker) => breaker.state === 'closed' && breaker.open_instances === 0)).toBe(true);
    expect(all.get('order-service')!.breakers).toEqual([]);

    // A participant answers the same report on its health port.
    const own = (await (await fetch(`${stack.service('shipping-service').url}/status`)).json()) as ServiceStatus;
    expect(own).toMatchObject({ service: 'shipping-service', stopping: false, lanes: [{ lane: 'step' }, { lane: 'compensation' }] });
  });

  it('when charges fail until the circuit opens, then the payment service shows it open with its step lane paused, and closed and consuming once the provider is back', async () => {
    await stack.setProviderFaults({ error_rate: 1, match: 'payments' });
    const waiting = await Promise.all([customer.place(), customer.place()]);
    const open = await waitFor(
      async () => {
        const view = await service('payment-service');
        return view.breakers.some((breaker) => breaker.state === 'open') ? view : undefined;
      },
      { timeoutMs: 20_000, what: 'the charge circuit to show open' },
    );
    expect(open.breakers).toContainEqual({ name: 'payment-provider-charge', state: 'open', open_instances: 1 });
    expect(open.lanes.find((lane) => lane.lane === 'step')).toMatchObject({ paused_instances: 1 });
    expect(open.instances[0]!.paused_lanes).toEqual(['step']);

    await stack.setProviderFaults({});
    for (const order of waiting) expect((await customer.settled(order.id, 30_000)).status).toBe('completed');
    // The failed charges were retried, and payment-service's retries are on the orders' timelines.
    const retries = await Promise.all(
      waiting.map(async (order) => ((await (await admin.request('GET', `/admin/orders/${order.id}/timeline`)).json()) as { retries: { service: string; event_type: string; attempt: number; error: string }[] }).retries),
    );
    const first = retries.flat().find((retry) => retry.attempt === 1);
    expect(first, 'a retry on a timeline').toMatchObject({ service: 'payment-service', event_type: 'inventory.reserved', error: expect.any(String) });
    const closed = await waitFor(
      async () => {
        const view = await service('payment-service');
        return view.breakers.every((breaker) => breaker.state === 'closed') && view.lanes.every((lane) => lane.paused_instances === 0) ? view : undefined;
      },
      { timeoutMs: 10_000, what: 'the circuits to show closed and the lanes consuming' },
    );
    expect(closed.instances[0]!.paused_lanes).toEqual([]);
  });

  it('when an instance stops, then it is no longer up at once; when it starts again, it is', async () => {
    await stack.stopService('shipping-service');
    const gone = await service('shipping-service');
    expect(gone.instances_up).toBe(0);
    expect(gone.instances[0]).toMatchObject({ up: false });
    await stack.startService('shipping-service');
    await waitFor(async () => (await service('shipping-service')).instances_up === 1, { timeoutMs: 5_000, what: 'the new instance to report' });
    const back = await service('shipping-service');
    // The stopped instance is still listed (as gone) for a while; the new one is up.
    expect(back.instances.filter((instance) => instance.up)).toHaveLength(1);
  });
});
