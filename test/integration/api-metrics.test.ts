import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningOrderService } from '../../services/order-service/app.js';
import { freePorts } from '../support/process-stack.js';
import { OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * order-service's /metrics against real Postgres, RabbitMQ and Redis: order-service alone (no
 * participants, so an order stays in progress until it is cancelled), admission control at one
 * order, a small anonymous rate limit, one-second saga deadlines and a sweeper the test runs by
 * hand. The tests build on each other, in order.
 */
let stack: TestStack;
let metricsUrl: string;
const api = () => new OrderApi(stack, 'cus_metrics');


/** The samples of the exposition text, keyed by `name{labels}` as written (labels in prom-client's order). */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${metricsUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const value = async (series: string) => (await scrape()).get(series);

/** Gauges are read from Postgres at scrape time (scrapes close together share a read): wait for one to show `expected`. */
async function gaugeReads(series: string, expected: number): Promise<void> {
  let last: number | undefined;
  await waitFor(
    async () => {
      last = await value(series);
      return last === expected;
    },
    { timeoutMs: 5_000, what: `${series} to read ${expected} (last: ${last})` },
  );
}

describe.skipIf(EXTERNAL_STACK)('order-service metrics', () => {
  let first: string;

  beforeAll(async () => {
    stack = await TestStack.start(
      {
        METRICS_PORT: String((await freePorts(1))[0]!),
        ADMISSION_MAX_BACKLOG: '1',
        ADMISSION_REFRESH_MS: '50',
        RATE_LIMIT_ANONYMOUS: '3',
        SAGA_TIMEOUT_MS: '1000',
        DEADLINE_SWEEP_MS: '600000',
      },
      { services: ['order-service'] },
    );
    metricsUrl = (stack.service('order-service') as RunningOrderService).runtime.metricsServer.url!;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('when nothing happened yet, then every order-service metric is there at zero, with the runtime defaults', async () => {
    const samples = await scrape();
    for (const series of ['orders_placed_total', 'order_admission_rejections_total', 'idempotency_replays_total', 'orders_in_progress', 'orders_past_deadline', 'outbox_unpublished_events', 'outbox_oldest_unpublished_age_seconds']) {
      expect(samples.get(series), series).toBe(0);
    }
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(samples.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('when an order is placed and its request replayed, then one order, one replay and the POSTs by route and status are counted', async () => {
    const key = randomUUID();
    const body = orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] });
    const placed = await api().request('POST', '/orders', body, { 'idempotency-key': key });
    expect(placed.status).toBe(202);
    first = ((await placed.json()) as { id: string }).id;
    const replayed = await api().request('POST', '/orders', body, { 'idempotency-key': key });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');

    const samples = await scrape();
    expect(samples.get('orders_placed_total')).toBe(1);
    expect(samples.get('idempotency_replays_total')).toBe(1);
    await gaugeReads('orders_in_progress', 1);
    expect(samples.get('http_server_request_duration_seconds_count{http_request_method="POST",http_route="/orders",http_response_status_code="202"}')).toBe(2);
  });

  it('when admission control refuses an order, then the 503 is counted as a rejection and under its route and status', async () => {
    await waitFor(
      async () => {
        const refused = await api().request('POST', '/orders', orderBody(), { 'idempotency-key': randomUUID() });
        return refused.status === 503;
      },
      { timeoutMs: 5_000, what: 'admission control to refuse' },
    );
    const samples = await scrape();
    expect(samples.get('order_admission_rejections_total')).toBeGreaterThanOrEqual(1);
    expect(samples.get('orders_placed_total')).toBe(1);
    expect(samples.get('http_server_request_duration_seconds_count{http_request_method="POST",http_route="/orders",http_response_status_code="503"}')).toBe(
      samples.get('order_admission_rejections_total'),
    );
  });

  it('when an anonymous client passes its rate limit, then the 429s are counted by limiter, and unmatched routes carry no route', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await fetch(`${stack.orderApi}/no-such-path`)).status);
    const limited = statuses.filter((status) => status === 429).length;
    expect(limited).toBeGreaterThanOrEqual(1);
    const samples = await scrape();
    expect(samples.get('rate_limit_rejections_total{limiter="anonymous"}')).toBe(limited);
    expect(samples.get('http_server_request_duration_seconds_count{http_request_method="GET",http_route="",http_response_status_code="429"}')).toBe(limited);
  });

  it('when an order passes its deadline, then it shows as past its deadline until the sweeper cancels it, counted with its reason', async () => {
    await gaugeReads('orders_past_deadline', 1);
    await (stack.service('order-service') as RunningOrderService).sweeper.sweep();
    await gaugeReads('orders_past_deadline', 0);
    await gaugeReads('orders_in_progress', 0);
    const samples = await scrape();
    expect(samples.get('order_sagas_ended_total{order_status="cancelled",cancellation_reason="deadline_exceeded"}')).toBe(1);
    expect(samples.get('order_saga_duration_seconds_count{order_status="cancelled"}')).toBe(1);
    expect(samples.get('order_saga_duration_seconds_sum{order_status="cancelled"}')).toBeGreaterThanOrEqual(1);
    expect((await api().get(first)).status).toBe('cancelled');
  });

  it('when a customer cancels an order, then it is counted as ended with reason customer_request', async () => {
    const order = await waitFor(
      async () => {
        const response = await api().request('POST', '/orders', orderBody(), { 'idempotency-key': randomUUID() });
        return response.status === 202 ? ((await response.json()) as { id: string }) : undefined;
      },
      { timeoutMs: 5_000, what: 'admission control to let an order in' },
    );
    expect((await api().request('POST', `/orders/${order.id}/cancel`)).status).toBe(202);
    const samples = await scrape();
    expect(samples.get('order_sagas_ended_total{order_status="cancelled",cancellation_reason="customer_request"}')).toBe(1);
    expect(samples.get('order_saga_duration_seconds_count{order_status="cancelled"}')).toBe(2);
    expect(samples.get('orders_placed_total')).toBe(2);
  });

  it('when the outbox has published everything, then its gauges read zero; the cancellations were sent and counted', async () => {
    await gaugeReads('outbox_unpublished_events', 0);
    await gaugeReads('outbox_oldest_unpublished_age_seconds', 0);
    const samples = await scrape();
    const sent = [...samples].filter(([series]) => series.startsWith('messaging_client_sent_messages_total{'));
    const byType = Object.fromEntries(sent.map(([series, count]) => [/event_type="([^"]+)"/.exec(series)![1], count]));
    expect(byType).toEqual({ 'order.created': 2, 'order.cancel_requested': 2 });
  });

  it('when something other than GET /metrics is asked of the metrics listener, then it answers 404', async () => {
    expect((await fetch(`${metricsUrl}/`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
