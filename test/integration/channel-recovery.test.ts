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
const SERVICE = 'recovery-probe';
const MAX_ATTEMPTS = 2;
const namespace = `r${randomBytes(4).toString('hex')}_`;
const names = topologyNames(namespace);
const logs = new LogCapture();
const logger = logs.loggerFor(SERVICE);

let connection: AmqpConnectionManager;
let broker: TestBroker;

beforeAll(async () => {
  broker = await TestBroker.connect(AMQP_URL, namespace);
  connection = await connectAmqp({ url: AMQP_URL, name: SERVICE, logger });
});

afterAll(async () => {
  await connection.close();
  await broker.deleteTopology([SERVICE], MAX_ATTEMPTS - 1).catch(() => undefined);
  await broker.close();
});

describe('a channel the broker closes while the connection stays up', () => {
  it('when the consumer\'s setup is refused, then it is set up again once the cause is gone and consumes', async () => {
    // A delay queue declared beforehand with other arguments: the consumer's declaration is refused
    // (PRECONDITION_FAILED), which closes its channel but not the connection.
    const delayQueue = names.retryQueue(SERVICE, 1);
    await broker.declareQueue(delayQueue, { 'x-max-length': 1 });
    const seen: string[] = [];
    const publisher = new EventPublisher({ connection, names, logger });
    const consumer = new EventConsumer({
      connection,
      names,
      service: SERVICE,
      publisher,
      logger,
      prefetch: 4,
      maxAttempts: MAX_ATTEMPTS,
      retryBaseDelayMs: 50,
      handlers: { 'order.cancel_requested': async (event) => void seen.push(event.data.order_id) },
    });
    const started = consumer.start();
    try {
      await waitFor(async () => logs.lines.some((line) => line.includes('PRECONDITION_FAILED')), { what: 'the refused declaration' });
      await broker.deleteQueue(delayQueue);

      await started;
      expect(logs.lines.some((line) => line.includes('reconnecting to set it up again'))).toBe(true);
      const orderId = randomUUID();
      await publisher.publish(newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId }));
      await waitFor(async () => seen.includes(orderId), { what: 'the event consumed after the recovery' });
    } finally {
      await consumer.stop();
      await publisher.close();
    }
  });
});
