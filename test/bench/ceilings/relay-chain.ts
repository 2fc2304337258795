import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';

export interface RelayChainCeiling {
  hops: number;
  chains: number;
  chainsPerSecond: number;
}

/**
 * Ceiling (b): the saga's message pattern with no work. A chain is published to queue 0; each of
 * `hops` relays consumes from its queue, publishes to the next (confirm channel, persistent) and
 * acks after the confirm; a sink consumes the last queue. `window` chains are kept in flight.
 */
export async function relayChain(url: string, durationMs: number, hops = 6, window = 200): Promise<RelayChainCeiling> {
  const prefix = `bench_${randomBytes(4).toString('hex')}_hop`;
  const queues = Array.from({ length: hops + 1 }, (_, i) => `${prefix}${i}`);
  const conn = await amqplib.connect(url, { noDelay: true });
  conn.on('error', () => undefined);
  try {
    const setup = await conn.createChannel();
    for (const queue of queues) await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (let hop = 0; hop < hops; hop += 1) {
      const channel = await conn.createConfirmChannel();
      channel.on('error', () => undefined);
      await channel.prefetch(100);
      await channel.consume(queues[hop]!, (msg) => {
        if (!msg) return;
        channel.publish('', queues[hop + 1]!, msg.content, { persistent: true }, (err) => {
          if (err) channel.nack(msg);
          else channel.ack(msg);
        });
      });
    }
    const source = await conn.createConfirmChannel();
    source.on('error', () => undefined);
    const sink = await conn.createChannel();
    await sink.prefetch(500);
    const body = Buffer.from(JSON.stringify({ id: 'x'.repeat(36), type: 'bench', data: { n: 1 } }));
    const end = performance.now() + durationMs;
    let done = 0;
    let started = 0;
    let finished: (() => void) | undefined;
    const startOne = () => {
      started += 1;
      source.publish('', queues[0]!, body, { persistent: true });
    };
    await sink.consume(queues[hops]!, (msg) => {
      if (!msg) return;
      sink.ack(msg);
      done += 1;
      if (performance.now() < end) startOne();
      else if (done === started) finished?.();
    });
    const begin = performance.now();
    const allDone = new Promise<void>((resolve) => (finished = resolve));
    for (let i = 0; i < window; i += 1) startOne();
    await allDone;
    const elapsed = performance.now() - begin;
    for (const queue of queues) await setup.deleteQueue(queue);
    return { hops, chains: done, chainsPerSecond: Math.round((done * 1000) / elapsed) };
  } finally {
    await conn.close().catch(() => undefined);
  }
}
