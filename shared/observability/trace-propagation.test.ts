import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import type { ConsumeMessage } from 'amqplib';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import winston from 'winston';
import { newEvent } from '../contracts/events.js';
import type { Pool } from '../db/pool.js';
import { UnitOfWork } from '../db/unit-of-work.js';
import { HTTPClient } from '../http/http-client.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { httpServerTracing } from './http-server-tracing.js';
import { endConsumeSpan, startConsumeSpan, startPublishSpan } from './messaging-spans.js';
import { captureTraceContext, tracer, type TraceCarrier } from './trace-context.js';

/**
 * Our seams with an SDK registered in this process (spans kept in memory): the context travels
 * from a request through the outbox, the publish and the consume, and log lines carry it.
 */
const exporter = new tracing.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });

beforeAll(() => provider.register());
beforeEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const finished = (name: string) => {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (!span) throw new Error(`no finished span ${name}; have: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
  return span;
};
const parentOf = (span: tracing.ReadableSpan) => span.parentSpanContext?.spanId;
const within = <T>(span: Span, fn: () => T): T => context.with(trace.setSpan(context.active(), span), fn);

function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ service: 'test', level: 'debug', transport: new winston.transports.Stream({ stream }) });
  return { logger, lines: () => out.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('log lines', () => {
  it('when a line is written inside a span, then it carries the span’s trace_id and span_id; outside one, neither', async () => {
    const { logger, lines } = capturingLogger();
    const span = tracer.startSpan('work');
    within(span, () => logger.child({ request_id: 'r1' }).info('inside', { detail: 1 }));
    span.end();
    logger.info('outside');
    await new Promise((resolve) => setImmediate(resolve));
    const [inside, outside] = lines();
    expect(inside).toMatchObject({ message: 'inside', request_id: 'r1', detail: 1, trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(outside).toMatchObject({ message: 'outside' });
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });
});

describe('publish and consume', () => {
  it('when an event emitted in a request is published and consumed after two retries, then consume ← publish ← request, with the retry count and outcome', () => {
    const request = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER });
    const carried = within(request, () => captureTraceContext());
    request.end();
    expect(carried?.traceparent).toContain(request.spanContext().spanId);
    const event = newEvent('order.cancel_requested', { order_id: 'o-1', reason: 'customer_request' }, { correlationId: 'o-1' });

    const { span: publish, headers } = startPublishSpan(event, 'saga.events', carried, 'sweep');
    publish.end();
    const message = {
      content: Buffer.from(JSON.stringify(event)),
      fields: { routingKey: 'inventory-service.compensation.delay.2' },
      // As a retry arrives: the original headers copied (byte strings come as Buffers), its count added.
      properties: { headers: { traceparent: Buffer.from(headers!.traceparent!), 'x-retry-count': 2 }, type: event.type, messageId: event.id, correlationId: 'o-1' },
    } as unknown as ConsumeMessage;
    const { span: consume, context: handlerContext } = startConsumeSpan(message, 'inventory-service.compensation', 'order.cancel_requested');
    expect(trace.getSpan(handlerContext)).toBe(consume);
    endConsumeSpan(consume, { outcome: 'retry', eventType: event.type });

    const [published, consumed] = [finished('publish order.cancel_requested'), finished('process order.cancel_requested')];
    expect(published.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(published)).toBe(request.spanContext().spanId);
    expect(published.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'saga.events',
      'messaging.message.id': event.id,
      'messaging.message.conversation_id': 'o-1',
      'saga.outbox.path': 'sweep',
    });
    expect(consumed.kind).toBe(SpanKind.CONSUMER);
    expect(consumed.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(parentOf(consumed)).toBe(published.spanContext().spanId);
    expect(consumed.attributes).toMatchObject({
      'messaging.destination.name': 'inventory-service.compensation',
      'messaging.operation.type': 'process',
      'saga.message.retry_count': 2,
      'saga.message.outcome': 'retry',
    });
    expect(consumed.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('when an event has no trace context (tracing was off when it was emitted), then its publish starts a trace, whatever span is active', () => {
    const unrelated = tracer.startSpan('some other unit of work');
    const event = newEvent('order.cancel_requested', { order_id: 'o-2', reason: 'deadline_exceeded' }, { correlationId: 'o-2' });
    within(unrelated, () => startPublishSpan(event, 'saga.events', undefined, 'after_commit').span.end());
    unrelated.end();
    const published = finished('publish order.cancel_requested');
    expect(parentOf(published)).toBeUndefined();
    expect(published.spanContext().traceId).not.toBe(unrelated.spanContext().traceId);
  });
});

/** A pool whose one client answers every statement, recording them: enough for UnitOfWork's transactions. */
function recordingPool() {
  const statements: Array<{ text: string; values?: unknown[] }> = [];
  const client = {
    query: async (text: string, values?: unknown[]) => {
      statements.push({ text, ...(values ? { values } : {}) });
      return { command: text === 'COMMIT' ? 'COMMIT' : 'INSERT', rowCount: 1, rows: [] };
    },
    on: () => client,
    removeListener: () => client,
    release: () => undefined,
  };
  return { pool: { connect: async () => client } as unknown as Pool, statements };
}

describe('the outbox', () => {
  it('when units of work from two messages are committed in one batch, then each event’s row and publish carry its own message’s context', async () => {
    const { pool, statements } = recordingPool();
    const published: Array<TraceCarrier | undefined> = [];
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: (_events, traces = []) => void published.push(...traces) }, { batchMax: 64, interleave: true });
    const spans = [tracer.startSpan('process a'), tracer.startSpan('process b')];
    const emit = (orderId: string) => (tx: Parameters<Parameters<UnitOfWork['run']>[0]>[0]) => {
      tx.emit('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
      return Promise.resolve();
    };
    // Queued in one turn: one batch, run in the async context of whichever unit started the drain.
    await Promise.all(spans.map((span, i) => within(span, () => unitOfWork.run(emit(`o-${i}`), `o-${i}`))));
    for (const span of spans) span.end();

    const insert = statements.find((s) => s.text.startsWith('INSERT INTO outbox'));
    expect(insert?.text).toContain('trace_context');
    const rows = (insert!.values![3] as string[]).map((json) => JSON.parse(json) as TraceCarrier);
    expect(rows.map((carrier) => carrier.traceparent)).toEqual(spans.map((span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`));
    expect(published).toEqual(rows);
  });

  it('when units of two messages share a batch, then each one’s afterCommit runs in its own context, and the relay is handed the events in none', async () => {
    const { pool } = recordingPool();
    let relaySawSpan: Span | undefined | null = null;
    const relay = { publishCommitted: () => void (relaySawSpan = trace.getActiveSpan()) };
    const unitOfWork = new UnitOfWork(pool, relay, { batchMax: 64, interleave: true });
    const spans = [tracer.startSpan('process a'), tracer.startSpan('process b')];
    const ranIn: Array<string | undefined> = [];
    await Promise.all(
      spans.map((span, i) =>
        within(span, () =>
          unitOfWork.run(async (tx) => {
            tx.emit('order.cancel_requested', { order_id: `o-${i}`, reason: 'customer_request' }, { correlationId: `o-${i}` });
            tx.afterCommit(() => ranIn.push(trace.getActiveSpan()?.spanContext().spanId));
          }, `o-${i}`),
        ),
      ),
    );
    for (const span of spans) span.end();
    expect(ranIn).toEqual(spans.map((span) => span.spanContext().spanId));
    // The batch's drain was started by the first unit, and still belongs to no trace of its own.
    expect(relaySawSpan).toBeUndefined();
  });

  it('when a unit emits outside any span, then its row is written by the statement without trace_context', async () => {
    const { pool, statements } = recordingPool();
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: () => undefined });
    await unitOfWork.run(async (tx) => void tx.emit('order.cancel_requested', { order_id: 'o-3', reason: 'deadline_exceeded' }, { correlationId: 'o-3' }));
    const insert = statements.find((s) => s.text.startsWith('INSERT INTO outbox'));
    expect(insert?.text).not.toContain('trace_context');
    expect(insert?.values).toHaveLength(3);
  });
});

describe('HTTP calls', () => {
  let server: import('node:http').Server;
  let baseUrl: string;
  const handledIn: Array<string | undefined> = [];

  beforeAll(async () => {
    const app = express();
    app.use(httpServerTracing());
    app.get('/healthz', (_req, res) => void res.json({ ok: true }));
    app.post('/payments/create', (_req, res) => {
      handledIn.push(trace.getActiveSpan()?.spanContext().spanId);
      res.status(201).json({ id: 'pay_1' });
    });
    app.get('/payments/:id', (_req, res) => void res.status(503).json({ error: 'down' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const client = () => {
    const { logger } = capturingLogger();
    return new HTTPClient({ baseUrl, apiKey: 'sk_test_trace', timeoutMs: 2_000, logger, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
  };

  it('when a call is made inside a span, then its CLIENT span is that span’s child and the server’s span continues it, named by its route', async () => {
    const parent = tracer.startSpan('process inventory.reserved', { kind: SpanKind.CONSUMER });
    await within(parent, () => client().post('payments/create', { amount: 1 }, { headers: { 'Idempotency-Key': 'k' } }));
    parent.end();
    await new Promise((resolve) => setImmediate(resolve));
    const calls = exporter.getFinishedSpans().filter((s) => s.name === 'POST /payments/create');
    const clientSpan = calls.find((s) => s.kind === SpanKind.CLIENT)!;
    const serverSpan = calls.find((s) => s.kind === SpanKind.SERVER)!;
    expect(parentOf(clientSpan)).toBe(parent.spanContext().spanId);
    expect(parentOf(serverSpan)).toBe(clientSpan.spanContext().spanId);
    expect(serverSpan.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(handledIn).toEqual([serverSpan.spanContext().spanId]);
    expect(clientSpan.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201, 'server.address': '127.0.0.1' });
    expect(serverSpan.attributes).toMatchObject({ 'http.route': '/payments/create', 'http.response.status_code': 201, 'url.path': '/payments/create' });
  });

  it('when a call fails with a 5xx and is retried, then each attempt is a failed CLIENT span, ids out of the name, and the second is a resend', async () => {
    await expect(client().get('payments/pay_3xYz9')).rejects.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    const attempts = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(attempts.map((s) => s.name)).toEqual(['GET /payments/{id}', 'GET /payments/{id}']);
    expect(attempts.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
    expect(attempts[1]!.attributes['http.request.resend_count']).toBe(1);
    const servers = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(servers.map((s) => s.name)).toEqual(['GET /payments/:id', 'GET /payments/:id']);
    expect(servers.every((s) => s.status.code === SpanStatusCode.ERROR && s.attributes['error.type'] === '503')).toBe(true);
  });

  it('when a probe asks /healthz, then no span is made', async () => {
    await fetch(`${baseUrl}/healthz`);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
