import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';

export interface AmqpCeiling {
  messages: number;
  messagesPerSecond: number;
}

/**
 * Ceiling (a): raw amqplib, one confirm channel publishing persistent messages to a durable quorum
 * queue (as the services use), one consumer with manual acks on its own connection. The rate is
 * messages consumed over the time from the first publish to the last ack.
 */
export async function amqpPublishConsume(url: string, messages: number, window = 1_000): Promise<AmqpCeiling> {
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
    await sub.prefetch(500);
    let consumed = 0;
    const allConsumed = new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (!msg) return;
        sub.ack(msg);
        consumed += 1;
        if (consumed === messages) resolve();
      });
    });
    const body = Buffer.from(JSON.stringify({ id: 'x'.repeat(36), type: 'bench', data: { n: 1 } }));
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
    await pub.waitForConfirms();
    await allConsumed;
    const elapsed = performance.now() - start;
    await pub.deleteQueue(queue);
    return { messages, messagesPerSecond: Math.round((messages * 1000) / elapsed) };
  } finally {
    await pubConn.close().catch(() => undefined);
    await subConn.close().catch(() => undefined);
  }
}
