import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { deleteAmqpObjects } from '../amqp-cleanup.js';
import { withTimeout } from '../with-timeout.js';

export interface AmqpCeiling {
  messages: number;
  messagesPerSecond: number;
}

/** Confirms the publisher may have outstanding; the peers (peers/messaging.ts) use the same. */
export const PUBLISH_WINDOW = 1_000;
/** Unacked messages the consumer may hold; the peers use the same. */
export const CONSUMER_PREFETCH = 500;

const DEFAULT_BODY = Buffer.from(JSON.stringify({ id: 'x'.repeat(36), type: 'bench', data: { n: 1 } }));

/** Generous: 2 ms a message is far slower than any client measured here. */
export const consumeTimeoutMs = (messages: number) => 30_000 + messages * 2;

/**
 * Ceiling (a): raw amqplib, one confirm channel publishing persistent messages to a durable quorum
 * queue (as the services use), one consumer with manual acks on its own connection. The rate is
 * messages consumed over the time from the first publish to the last ack.
 */
export async function amqpPublishConsume(url: string, messages: number, window = PUBLISH_WINDOW, body = DEFAULT_BODY): Promise<AmqpCeiling> {
  const queue = `bench_${randomBytes(4).toString('hex')}_raw`;
  const pubConn = await amqplib.connect(url, { noDelay: true });
  const subConn = await amqplib.connect(url, { noDelay: true });
  pubConn.on('error', () => undefined);
  subConn.on('error', () => undefined);
  try {
    const pub = await pubConn.createConfirmChannel();
    const sub = await subConn.createChannel();
    pub.on('error', () => undefined);
    sub.on('error', () => undefined);
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await sub.prefetch(CONSUMER_PREFETCH);
    let consumed = 0;
    const allConsumed = new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (!msg) return;
        sub.ack(msg);
        consumed += 1;
        if (consumed === messages) resolve();
      });
    });
    const start = performance.now();
    let inFlight = 0;
    let wake: (() => void) | undefined;
    for (let i = 0; i < messages; i += 1) {
      while (inFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
      inFlight += 1;
      pub.publish('', queue, body, { persistent: true, contentType: 'application/json' }, () => {
        inFlight -= 1;
        wake?.();
      });
    }
    await withTimeout(pub.waitForConfirms(), consumeTimeoutMs(messages), 'publisher confirms');
    await withTimeout(allConsumed, consumeTimeoutMs(messages), `${messages} messages consumed`);
    const elapsed = performance.now() - start;
    return { messages, messagesPerSecond: Math.round((messages * 1000) / elapsed) };
  } finally {
    await pubConn.close().catch(() => undefined);
    await subConn.close().catch(() => undefined);
    await deleteAmqpObjects(url, { queues: [queue] });
  }
}
