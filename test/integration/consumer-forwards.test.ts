import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../../shared/contracts/events.js';
import { connectAmqp, type AmqpConnectionManager } from '../../shared/messaging/amqp-connection.js';
import { EventConsumer } from '../../shared/messaging/event-consumer.js';
import { EventPublisher } from '../../shared/messaging/event-publisher.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';
import { TestBroker } from '../support/broker.js';
import { LogCapture } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const SERVICE = 'forward-probe';
const MAX_ATTEMPTS = 3;
const namespace = `f${randomBytes(4).toString('hex')}_`;
const names = topologyNames(namespace);
const logs = new LogCapture();
const logger = logs.loggerFor(SERVICE);

let connection: AmqpConnectionManager;
let broker: TestBroker;
let publisher: EventPublisher;
let consumer: EventConsumer;
/** Per order id: handler calls so far, and whether the last one succeeded. */
const calls = new Map<string, { n: number; done: boolean }>();
const FAIL_TIMES = 2;

beforeAll(async () => {
  broker = await TestBroker.connect(AMQP_URL, namespace);
  connection = await connectAmqp({ url: AMQP_URL, name: SERVICE, logger });
  publisher = new EventPublisher({ connection, names, logger });
  consumer = new EventConsumer({
    connection,
    names,
    service: SERVICE,
    publisher,
    logger,
    prefetch: 4,
    maxAttempts: MAX_ATTEMPTS,
    retryBaseDelayMs: 50,
    handlers: {
      'order.cancel_requested': async (event) => {
        const seen = calls.get(event.data.order_id) ?? { n: 0, done: false };
        seen.n += 1;
        calls.set(event.data.order_id, seen);
        if (seen.n <= FAIL_TIMES) throw new Error(`failure ${seen.n}`);
        seen.done = true;
      },
    },
  });
  await consumer.start();
});

afterAll(async () => {
  await consumer.stop();
  await publisher.close();
  await connection.close();
  await broker.deleteTopology([SERVICE], MAX_ATTEMPTS - 1).catch(() => undefined);
  await broker.close();
});

describe('retry forwards', () => {
  it('when a delay queue has gone missing, then the returned copy is not taken for sent: the queue is declared again and the message is retried, not lost', async () => {
    const delayQueue = names.retryQueue(SERVICE, 1);
    await broker.deleteQueue(delayQueue);
    const orderId = randomUUID();
    await publisher.publish(newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId }));

    await waitFor(async () => calls.get(orderId)?.done === true, { what: 'the handler to succeed after its retries' });
    expect(calls.get(orderId)?.n).toBe(FAIL_TIMES + 1);
    expect(logs.lines.some((line) => line.includes('could not forward message; requeueing it'))).toBe(true);
    expect(await broker.messageCount(delayQueue)).toBe(0);
    expect(await broker.messageCount(names.deadLetterQueue(SERVICE))).toBe(0);
  });
});
