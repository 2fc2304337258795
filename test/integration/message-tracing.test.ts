import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type SagaEvent } from '../../shared/contracts/events.js';
import { connectAmqp, type AmqpConnectionManager } from '../../shared/messaging/amqp-connection.js';
import { EventConsumer } from '../../shared/messaging/event-consumer.js';
import { EventPublisher } from '../../shared/messaging/event-publisher.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';
import { captureTraceContext, tracer } from '../../shared/observability/trace-context.js';
import { TestBroker } from '../support/broker.js';
import { LogCapture } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The trace context through RabbitMQ itself, in this process with spans kept in memory: a publish
 * carries it in the message's headers, and it survives what happens to a message on its way to
 * being handled: retries through the delay queues, a dead letter, and a reconnect that puts an
 * unacked delivery back and sends a publish made while disconnected once connected again.
 */
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const SERVICE = 'traced-probe-service';
const MAX_ATTEMPTS = 3;
const namespace = `m${randomBytes(4).toString('hex')}_`;
const names = topologyNames(namespace);
const logs = new LogCapture();
const logger = logs.loggerFor(SERVICE);

const exporter = new tracing.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });

let connection: AmqpConnectionManager;
let publisher: EventPublisher;
let consumer: EventConsumer;
let broker: TestBroker;

/** Per order id: how the handler behaves, and the span each of its calls ran in. */
const plans = new Map<string, { failTimes: number; hold?: Promise<void>; calls: Array<string | undefined> }>();

async function handle(event: SagaEvent<'order.cancel_requested'>): Promise<void> {
  const plan = plans.get(event.data.order_id);
  if (!plan) return;
  plan.calls.push(trace.getActiveSpan()?.spanContext().spanId);
  if (plan.calls.length === 1 && plan.hold) await plan.hold;
  if (plan.calls.length <= plan.failTimes) throw new Error(`failure ${plan.calls.length}`);
}

beforeAll(async () => {
  provider.register();
  connection = await connectAmqp({ url: AMQP_URL, name: SERVICE, logger });
  publisher = new EventPublisher({ connection, names, logger });
  consumer = new EventConsumer({
    connection,
    names,
    service: SERVICE,
    publisher,
    logger,
    prefetch: 8,
    maxAttempts: MAX_ATTEMPTS,
    retryBaseDelayMs: 50,
    handlers: { 'order.cancel_requested': handle },
  });
  await consumer.start();
  broker = await TestBroker.connect(AMQP_URL, namespace);
});

beforeEach(() => exporter.reset());

afterAll(async () => {
  await consumer?.stop();
  await publisher?.close();
  await connection?.close();
  await broker?.deleteTopology([SERVICE], MAX_ATTEMPTS - 1);
  await broker?.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** Publishes an order's cancel as the outbox relay does: with the context it was emitted in, a request's. */
async function sendFromRequest(orderId: string) {
  const request = tracer.startSpan('POST /orders/:id/cancel', { kind: SpanKind.SERVER });
  const emittedIn = captureTraceContext(trace.setSpan(context.active(), request));
  request.end();
  const event = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
  const sent = publisher.publish(event, { traceContext: emittedIn, outbox: 'after_commit' });
  return { request, event, sent };
}

const spansNamed = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
const consumesOf = (orderId: string) =>
  spansNamed('process order.cancel_requested').filter((span) => span.attributes['messaging.message.conversation_id'] === orderId);

describe('trace context through RabbitMQ', () => {
  it('when a handler fails twice and then succeeds, then each delivery, the retries through the delay queues included, is a consume span child of the one publish', async () => {
    const orderId = randomUUID();
    plans.set(orderId, { failTimes: 2, calls: [] });
    const { request, sent } = await sendFromRequest(orderId);
    await sent;
    await waitFor(async () => consumesOf(orderId).length === 3, { what: 'three consume spans' });

    const [publish] = spansNamed('publish order.cancel_requested');
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    const consumes = consumesOf(orderId).sort((a, b) => Number(a.attributes['saga.message.retry_count']) - Number(b.attributes['saga.message.retry_count']));
    for (const span of consumes) {
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
    }
    expect(consumes.map((span) => [span.attributes['saga.message.retry_count'], span.attributes['saga.message.outcome']])).toEqual([
      [0, 'retry'],
      [1, 'retry'],
      [2, 'ack'],
    ]);
    expect(consumes.map((span) => span.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    // The handler ran inside its delivery's span, so what it emits and logs belongs to it.
    expect(new Set(plans.get(orderId)!.calls)).toEqual(new Set(consumes.map((span) => span.spanContext().spanId)));
    const retried = logs.lines.filter((line) => line.includes('handler failed; retrying later') && line.includes(orderId));
    expect(retried.map((line) => (JSON.parse(line) as { trace_id?: string }).trace_id)).toEqual([request.spanContext().traceId, request.spanContext().traceId]);
  });

  it('when a message arrives gzip’d, then its consume span gives the body’s size as JSON, not as it travelled', async () => {
    const orderId = randomUUID();
    plans.set(orderId, { failTimes: 0, calls: [] });
    const event = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    const json = Buffer.from(JSON.stringify(event));
    const wire = gzipSync(json);
    await broker.publish(event.type, wire, { contentEncoding: 'gzip', contentType: 'application/json', messageId: event.id, type: event.type, correlationId: orderId });
    await waitFor(async () => consumesOf(orderId).length === 1, { what: 'the consume span' });
    const [consume] = consumesOf(orderId);
    expect(consume!.attributes['saga.message.outcome']).toBe('ack');
    expect(consume!.attributes['messaging.message.body.size']).toBe(json.length);
    expect(wire.length).not.toBe(json.length);
  });

  it('when a handler always fails, then the dead letter carries the publish’s traceparent and its last delivery’s span says dead_letter', async () => {
    const orderId = randomUUID();
    plans.set(orderId, { failTimes: 99, calls: [] });
    const { request, sent } = await sendFromRequest(orderId);
    await sent;
    const dlq = names.deadLetterQueue(SERVICE);
    await waitFor(async () => (await broker.messageCount(dlq)) === 1, { what: 'a dead letter' });
    await waitFor(async () => consumesOf(orderId).length === MAX_ATTEMPTS, { what: 'every delivery’s span' });

    const [letter] = await broker.drain(dlq);
    const [publish] = spansNamed('publish order.cancel_requested');
    expect(String(letter!.properties.headers?.traceparent)).toBe(`00-${request.spanContext().traceId}-${publish!.spanContext().spanId}-01`);
    const last = consumesOf(orderId).find((span) => span.attributes['saga.message.retry_count'] === MAX_ATTEMPTS - 1);
    expect(last?.attributes).toMatchObject({ 'saga.message.outcome': 'dead_letter', 'saga.dead_letter.reason': 'retries_exhausted' });
  });

  it('when the connection drops while a delivery is in hand and a publish is made while disconnected, then both continue their traces once reconnected', async () => {
    const held = randomUUID();
    let release!: () => void;
    plans.set(held, { failTimes: 0, hold: new Promise<void>((resolve) => (release = resolve)), calls: [] });
    const first = await sendFromRequest(held);
    await first.sent;
    await waitFor(async () => plans.get(held)!.calls.length === 1, { what: 'the delivery in hand' });

    const down = once(connection, 'disconnect');
    connection.reconnect();
    await down;
    // Made while the connection is down: amqp-connection-manager sends it once connected again. (A
    // publish caught on the closing channel fails instead; its outbox row is then the sweep's, which
    // publishes it with the context kept in the row: test/integration/outbox-relay.test.ts.)
    const late = randomUUID();
    plans.set(late, { failTimes: 0, calls: [] });
    const second = await sendFromRequest(late);
    release();
    await second.sent;
    // The delivery in hand was put back when its channel closed and comes again on the new one.
    await waitFor(async () => consumesOf(held).length >= 2 && consumesOf(late).length === 1, { timeoutMs: 15_000, what: 'the redelivery and the late publish' });

    const publishOf = (traceId: string) => spansNamed('publish order.cancel_requested').find((span) => span.spanContext().traceId === traceId)!;
    for (const [{ request }, orderId] of [[first, held], [second, late]] as const) {
      const publish = publishOf(request.spanContext().traceId);
      expect(publish.status.code).toBe(SpanStatusCode.UNSET);
      for (const span of consumesOf(orderId)) expect(span.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    }
  });
});
