import { randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type SagaEvent } from '../../shared/contracts/events.js';
import { NonRetryableError } from '../../shared/errors/non-retryable-error.js';
import { connectAmqp, type AmqpConnectionManager } from '../../shared/messaging/amqp-connection.js';
import { DEAD_LETTER_HEADERS } from '../../shared/messaging/dead-letter-headers.js';
import { EventConsumer } from '../../shared/messaging/event-consumer.js';
import { EventPublisher } from '../../shared/messaging/event-publisher.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';
import { TestBroker } from '../support/broker.js';
import { LogCapture } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const SERVICE = 'probe-service';
/** A service with both lanes, of which only the compensation lane is consumed. */
const LANED = 'laned-probe-service';
const MAX_ATTEMPTS = 3;
const namespace = `c${randomBytes(4).toString('hex')}_`;
const names = topologyNames(namespace);
const logs = new LogCapture();
const logger = logs.loggerFor(SERVICE);

let connection: AmqpConnectionManager;
let publisher: EventPublisher;
/** Publishes every event gzip'd (content_encoding gzip). */
let compressing: EventPublisher;
let consumer: EventConsumer;
let compensations: EventConsumer;
let broker: TestBroker;
/** Per order id: how the handler should behave, and how often it ran. */
const behaviour = new Map<string, Plan>();
/** The same, for the compensation lane's consumer (every test's event reaches both services). */
const lanedBehaviour = new Map<string, Plan>();

interface Plan {
  failTimes: number;
  nonRetryable?: boolean;
  calls: number;
}

/** A handler that fails as the order's plan says (nothing for an order without one) and counts its calls. */
function asPlanned(plans: Map<string, Plan>) {
  return async (event: SagaEvent<'order.cancel_requested'>) => {
    const plan = plans.get(event.data.order_id);
    if (!plan) return;
    plan.calls += 1;
    if (plan.calls <= plan.failTimes) {
      throw plan.nonRetryable ? new NonRetryableError('rejected on purpose') : new Error(`failure ${plan.calls}`);
    }
  };
}

beforeAll(async () => {
  connection = await connectAmqp({ url: AMQP_URL, name: SERVICE, logger });
  publisher = new EventPublisher({ connection, names, logger });
  compressing = new EventPublisher({ connection, names, logger, compressAboveBytes: 1 });
  consumer = new EventConsumer({
    connection,
    names,
    service: SERVICE,
    publisher,
    logger,
    prefetch: 8,
    maxAttempts: MAX_ATTEMPTS,
    retryBaseDelayMs: 50,
    handlers: {
      'order.cancel_requested': asPlanned(behaviour),
    },
  });
  await consumer.start();
  compensations = new EventConsumer({
    connection,
    names,
    service: LANED,
    lane: 'compensation',
    bindings: { step: ['order.created'], compensation: ['order.cancel_requested'] },
    publisher,
    logger,
    prefetch: 8,
    maxAttempts: MAX_ATTEMPTS,
    retryBaseDelayMs: 50,
    handlers: {
      'order.created': async () => undefined,
      'order.cancel_requested': asPlanned(lanedBehaviour),
    },
  });
  await compensations.start();
  broker = await TestBroker.connect(AMQP_URL, namespace);
});

afterAll(async () => {
  await consumer.stop();
  await compensations.stop();
  await publisher.close();
  await compressing.close();
  await connection.close();
  await broker.deleteTopology([SERVICE, LANED], MAX_ATTEMPTS - 1);
  await broker.close();
});

async function send(orderId: string) {
  const event = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
  await publisher.publish(event);
  return event;
}

describe('event consumer against RabbitMQ', () => {
  it('when a handler fails twice and then succeeds, then it is retried through the delay queues and not dead-lettered', async () => {
    const orderId = randomUUID();
    behaviour.set(orderId, { failTimes: 2, calls: 0 });
    await send(orderId);
    await waitFor(async () => behaviour.get(orderId)!.calls === 3, { what: 'three attempts' });
    expect(await broker.messageCount(names.deadLetterQueue(SERVICE))).toBe(0);
  });

  it('when a handler always fails, then after the last attempt the message is dead-lettered with its error', async () => {
    const orderId = randomUUID();
    behaviour.set(orderId, { failTimes: 99, calls: 0 });
    const event = await send(orderId);
    const dlq = names.deadLetterQueue(SERVICE);
    await waitFor(async () => (await broker.messageCount(dlq)) === 1, { what: 'a dead letter' });
    expect(behaviour.get(orderId)!.calls).toBe(MAX_ATTEMPTS);
    const [letter] = await broker.drain(dlq);
    expect(letter?.properties.messageId).toBe(event.id);
    expect(letter?.properties.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.reason]: 'retries_exhausted',
      [DEAD_LETTER_HEADERS.error]: 'failure 3',
      [DEAD_LETTER_HEADERS.retryCount]: MAX_ATTEMPTS - 1,
      [DEAD_LETTER_HEADERS.routingKey]: 'order.cancel_requested',
    });
    expect(JSON.parse(letter!.content.toString())).toEqual(event);
  });

  it('when a handler rejects an event as non-retryable, then it is dead-lettered at once', async () => {
    const orderId = randomUUID();
    behaviour.set(orderId, { failTimes: 1, nonRetryable: true, calls: 0 });
    await send(orderId);
    const dlq = names.deadLetterQueue(SERVICE);
    await waitFor(async () => (await broker.messageCount(dlq)) === 1, { what: 'a dead letter' });
    const [letter] = await broker.drain(dlq);
    expect(letter?.properties.headers?.[DEAD_LETTER_HEADERS.reason]).toBe('handler_rejected');
    expect(behaviour.get(orderId)!.calls).toBe(1);
  });

  it('when a delay queue has gone missing, then the returned copy is not taken for sent: the queue is declared again and the message is retried, not lost', async () => {
    const delayQueue = names.retryQueue(SERVICE, 1);
    await broker.deleteQueue(delayQueue);
    const orderId = randomUUID();
    behaviour.set(orderId, { failTimes: 2, calls: 0 });
    await send(orderId);

    await waitFor(async () => behaviour.get(orderId)!.calls === 3, { what: 'the handler to succeed after its retries' });
    expect(logs.lines.some((line) => line.includes('could not forward message; requeueing it'))).toBe(true);
    expect(await broker.messageCount(delayQueue)).toBe(0);
    expect(await broker.messageCount(names.deadLetterQueue(SERVICE))).toBe(0);
  });
});

describe('a gzip\'d event against RabbitMQ', () => {
  it('when a gzip\'d event always fails, then every retry is read and its dead letter keeps the gzip body with content_encoding gzip', async () => {
    const orderId = randomUUID();
    behaviour.set(orderId, { failTimes: 99, calls: 0 });
    const event = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await compressing.publish(event);
    const dlq = names.deadLetterQueue(SERVICE);
    await waitFor(async () => (await broker.messageCount(dlq)) === 1, { what: 'a dead letter' });
    // Each retry was a copy the consumer could read again: an unreadable one is dead-lettered at once.
    expect(behaviour.get(orderId)!.calls).toBe(MAX_ATTEMPTS);
    const [letter] = await broker.drain(dlq);
    expect(letter?.properties).toMatchObject({ contentEncoding: 'gzip', contentType: 'application/json', messageId: event.id });
    expect(letter?.properties.headers?.[DEAD_LETTER_HEADERS.reason]).toBe('retries_exhausted');
    expect(JSON.parse(gunzipSync(letter!.content).toString())).toEqual(event);
  });
});

describe('the compensation lane against RabbitMQ', () => {
  it('when a compensation fails twice, then its retries go through the lane\'s own delay queues and come back to the compensation lane, never to the step lane', async () => {
    const orderId = randomUUID();
    lanedBehaviour.set(orderId, { failTimes: 2, calls: 0 });
    const delays = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => names.retryQueue(LANED, i + 1, 'compensation'));
    expect(delays).toEqual([`${namespace}${LANED}.compensation.delay.1`, `${namespace}${LANED}.compensation.delay.2`]);
    await send(orderId);

    // Only the compensation lane is consumed here: a retry sent anywhere else would never come back.
    await waitFor(async () => lanedBehaviour.get(orderId)!.calls === 3, { what: 'three attempts on the compensation lane' });
    expect(await broker.messageCount(names.queue(LANED))).toBe(0);
    expect(await broker.messageCount(names.deadLetterQueue(LANED))).toBe(0);
  });

  it('when a compensation fails on every attempt, then its dead letter names the compensation lane as its queue', async () => {
    const orderId = randomUUID();
    lanedBehaviour.set(orderId, { failTimes: 99, calls: 0 });
    await send(orderId);
    const dlq = names.deadLetterQueue(LANED);
    await waitFor(async () => (await broker.messageCount(dlq)) === 1, { what: 'a dead letter' });
    const [letter] = await broker.drain(dlq);
    expect(letter?.properties.headers?.[DEAD_LETTER_HEADERS.queue]).toBe(names.queue(LANED, 'compensation'));
    expect(lanedBehaviour.get(orderId)!.calls).toBe(MAX_ATTEMPTS);
  });
});
