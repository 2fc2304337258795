import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROCESSES, ProcessStack, freePorts } from '../support/process-stack.js';
import { ADDRESS, OrderApi, orderBody } from '../support/order-api.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Traces across the five processes, each its own OS process exporting OTLP/HTTP JSON to a receiver
 * in this test: one order that fails to ship (charged, then refunded and released) is one trace.
 * Then, with the provider started alone: the http/protobuf protocol, the flush on SIGTERM, and
 * tracing off by default.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SERVER = 2;
const CONSUMER = 5;

let receiver: OtlpReceiver;
let stack: ProcessStack | undefined;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

/** JSON log lines of the stack's processes, with the process each came from. */
function logLines(processes: ProcessStack): Array<Record<string, unknown>> {
  return processes.logLines().flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('one order, one trace, across every process', () => {
  it('when an order is charged and then fails to ship, then one trace holds every hop of all five services, the refund and the release included, and their log lines carry its id; an order placed beside it is a trace of its own', async () => {
    stack = await ProcessStack.start({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    const api = new OrderApi(stack, 'cus_tracing');
    // Placed side by side, so that their units of work may share batches (group commit) on the way.
    const [placed, beside] = await Promise.all([
      api.place(orderBody({ items: [{ sku: 'LAMP-DESK', quantity: 1 }], shipping_address: { ...ADDRESS, country: 'AQ' } })),
      api.place(orderBody({ items: [{ sku: 'LAMP-DESK', quantity: 1 }] })),
    ]);
    const order = await api.settled(placed.id, 30_000);
    expect(order).toMatchObject({ status: 'cancelled', cancellation_reason: 'shipping_failed' });
    expect(await api.settled(beside.id, 30_000)).toMatchObject({ status: 'completed' });

    // The order's trace: the one its messages' spans carry (their conversation id is the order id).
    const traceId = await waitFor(
      async () => receiver.spans.find((span) => span.attributes['messaging.message.conversation_id'] === placed.id)?.traceId,
      { timeoutMs: 10_000, what: 'a span of the order' },
    );
    const has = (spans: ReceivedSpan[], service: string, name: string, kind?: number) =>
      spans.some((span) => span.service === service && span.name === name && (kind === undefined || span.kind === kind));
    let spans: ReceivedSpan[] = [];
    const ids = () => new Set(spans.map((span) => span.spanId));
    const orphans = () => spans.filter((span) => span.parentSpanId !== '' && !ids().has(span.parentSpanId));
    try {
      await waitFor(
        async () => {
          spans = receiver.trace(traceId);
          return (
            has(spans, 'order-service', 'POST /orders', SERVER) &&
            // the refund: payment-service takes shipping.failed and calls the provider
            has(spans, 'payment-service', 'process shipping.failed', CONSUMER) &&
            has(spans, 'payment-provider', 'POST /refunds', SERVER) &&
            // the release: inventory takes payment.refunded; order-service records inventory.released
            has(spans, 'inventory-service', 'process payment.refunded', CONSUMER) &&
            has(spans, 'order-service', 'process inventory.released', CONSUMER) &&
            orphans().length === 0
          );
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'every hop of the order in its trace' },
      );
    } catch (error) {
      const seen = spans.map((s) => `${s.service}: ${s.name} (${s.spanId} ← ${s.parentSpanId || 'root'})`).join('\n');
      throw new Error(`${(error as Error).message}\nspans of trace ${traceId}:\n${seen}`, { cause: error });
    }

    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(ALL_PROCESSES));
    const roots = spans.filter((span) => span.parentSpanId === '');
    expect(roots.map((span) => `${span.service}: ${span.name}`)).toEqual(['order-service: POST /orders']);
    expect(roots[0]!.attributes).toMatchObject({ 'http.route': '/orders', 'http.response.status_code': 202 });
    // Every hop, in saga order: each publish a child of what emitted it, each consume of its publish.
    for (const [service, name] of [
      ['order-service', 'publish order.created'],
      ['inventory-service', 'process order.created'],
      ['inventory-service', 'publish inventory.reserved'],
      ['payment-service', 'process inventory.reserved'],
      ['payment-service', 'POST /payments/create'],
      ['payment-provider', 'POST /payments/create'],
      ['payment-service', 'publish payment.succeeded'],
      ['shipping-service', 'process payment.succeeded'],
      ['shipping-service', 'publish shipping.failed'],
      ['payment-service', 'POST /refunds'],
      ['payment-service', 'publish payment.refunded'],
      ['inventory-service', 'publish inventory.released'],
    ]) {
      expect(has(spans, service!, name!), `${service}: ${name}`).toBe(true);
    }
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentName = (span: ReceivedSpan | undefined) => (span ? byId.get(span.parentSpanId)?.name : undefined);
    const refund = spans.find((s) => s.service === 'payment-provider' && s.name === 'POST /refunds');
    expect(parentName(refund)).toBe('POST /refunds');
    expect(parentName(byId.get(refund!.parentSpanId))).toBe('process shipping.failed');
    const release = spans.find((s) => s.service === 'inventory-service' && s.name === 'process payment.refunded');
    expect(parentName(release)).toBe('publish payment.refunded');
    expect(release!.attributes).toMatchObject({ 'messaging.destination.name': `${stack.namespace}inventory-service.compensation`, 'saga.message.outcome': 'ack' });

    // Log lines written inside the trace's spans carry its id, and name a span of it.
    const traced = logLines(stack).filter((line) => line.trace_id === traceId);
    const tracedBy = (service: string, message: string) => traced.some((line) => line.service === service && line.message === message);
    expect(tracedBy('payment-service', 'payment refunded'), 'payment-service: payment refunded').toBe(true);
    expect(tracedBy('order-service', 'order status changed'), 'order-service: order status changed').toBe(true);
    expect(tracedBy('payment-provider', 'request'), 'payment-provider: request').toBe(true);
    expect(traced.every((line) => ids().has(String(line.span_id)))).toBe(true);

    // One trace per order: every span naming an order (its conversation id) is in that order's trace.
    const tracesOf = (orderId: string) =>
      new Set(receiver.spans.filter((span) => span.attributes['messaging.message.conversation_id'] === orderId).map((span) => span.traceId));
    await waitFor(
      async () => receiver.spans.some((span) => span.name === 'process shipping.scheduled' && span.attributes['messaging.message.conversation_id'] === beside.id),
      { timeoutMs: 10_000, what: 'the spans of the order placed beside it' },
    );
    expect(tracesOf(placed.id)).toEqual(new Set([traceId]));
    expect(tracesOf(beside.id).size).toBe(1);
    expect(tracesOf(beside.id).has(traceId)).toBe(false);
  });
});


/**
 * Runs the payment provider alone as its own process with `env`, calls `act` with its URL, then
 * stops it with SIGTERM and returns its log lines; its schema is dropped afterwards.
 */
async function withProviderAlone(env: Record<string, string>, act: (url: string) => Promise<void>): Promise<{ lines: string[]; code: number | null }> {
  const namespace = `t${randomBytes(4).toString('hex')}_`;
  const port = (await freePorts(1))[0]!;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'services', 'payment-provider', 'main.ts')], {
    env: { ...process.env, NAMESPACE: namespace, PORT: String(port), METRICS_PORT: '0', LOG_LEVEL: 'debug', DATABASE_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const url = `http://127.0.0.1:${port}`;
  let code: number | null;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the provider exited with ${child.exitCode}: ${output}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the provider to start' },
    );
    await act(url);
  } finally {
    child.kill('SIGTERM');
    code = await exited;
    clearTimeout(killer);
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    await db.query(`DROP SCHEMA IF EXISTS "${namespace}payment_provider" CASCADE`).finally(() => db.end());
  }
  return { lines: output.split('\n').filter(Boolean), code };
}

/** A W3C traceparent with a fresh trace id. */
function newTraceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

describe('the provider alone', () => {
  it('when the protocol is http/protobuf, then spans arrive as protobuf, flushed at SIGTERM, continuing the caller’s trace', async () => {
    const before = receiver.exports.length;
    const { traceId, header } = newTraceparent();
    const { lines, code } = await withProviderAlone(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // Nothing is exported on the batch's schedule or by a full batch (the start's own spans:
        // migrations, job queues) within the test: what arrives was flushed at the stop.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_BSP_MAX_QUEUE_SIZE: '100000',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100000',
        OTEL_SERVICE_NAME: 'provider-under-test',
      },
      async (url) => {
        // Refused (no API key), and traced all the same: the span comes before authentication.
        const response = await fetch(`${url}/payments?order_id=o-1`, { headers: { traceparent: header } });
        expect(response.status).toBe(401);
        // The request's span is not exported before the stop (another stack's late export may be).
        const early = receiver.exports.slice(before).filter((request) => request.body.includes(Buffer.from('provider-under-test')));
        expect(early).toEqual([]);
      },
    );
    expect(code).toBe(0);
    const sent = receiver.exports.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((request) => request.path === '/v1/traces' && request.contentType === 'application/x-protobuf')).toBe(true);
    const body = Buffer.concat(sent.map((request) => request.body));
    expect(body.includes(Buffer.from(traceId, 'hex'))).toBe(true);
    expect(body.includes(Buffer.from('provider-under-test'))).toBe(true);
    // Refused before routing: named by its method, its path in url.path.
    expect(body.includes(Buffer.from('url.path'))).toBe(true);
    expect(body.includes(Buffer.from('/payments'))).toBe(true);
    // The request's log line was written inside its span.
    expect(lines.some((line) => line.includes(`"trace_id":"${traceId}"`))).toBe(true);
  });

  it('when the exporter is console, then the spans are written to stdout, flushed at SIGTERM, and nothing is sent to a collector', async () => {
    const before = receiver.exports.length;
    const { traceId, header } = newTraceparent();
    const { lines, code } = await withProviderAlone(
      { OTEL_TRACES_EXPORTER: 'console', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      async (url) => void (await fetch(`${url}/payments?order_id=o-1`, { headers: { traceparent: header } })),
    );
    expect(code).toBe(0);
    expect(receiver.exports.length).toBe(before);
    // The console exporter prints each span as an object (util.inspect), not as a JSON line.
    expect(lines.some((line) => line.includes(`traceId: '${traceId}'`))).toBe(true);
    expect(lines.some((line) => line.includes(`"trace_id":"${traceId}"`))).toBe(true);
  });

  it('when OTEL_TRACES_EXPORTER is unset, then nothing is exported and no log line carries a trace id', async () => {
    const before = receiver.exports.length;
    const { header } = newTraceparent();
    const { lines, code } = await withProviderAlone(
      { OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
      async (url) => {
        await fetch(`${url}/payments?order_id=o-1`, { headers: { traceparent: header } });
        await fetch(`${url}/refunds`, { method: 'POST', headers: { traceparent: header, authorization: 'Bearer nope' } });
        await new Promise((resolve) => setTimeout(resolve, 300));
      },
    );
    expect(code).toBe(0);
    expect(receiver.exports.length).toBe(before);
    expect(lines.some((line) => line.includes('"message":"request'))).toBe(true);
    expect(lines.filter((line) => line.includes('trace_id') || line.includes('span_id'))).toEqual([]);
  });
});
