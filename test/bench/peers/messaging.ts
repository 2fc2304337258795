import { amqpPublishConsume } from '../ceilings/amqp-publish-consume.js';
import { CONSUMER_PREFETCH, orderCreatedEvent, PUBLISH_WINDOW } from './amqp-workload.js';
import { ourMessaging } from './our-messaging.js';
import { rascalMessaging } from './rascal-messaging.js';

export interface MessagingPeers {
  messages: number;
  /** Most unconfirmed publishes at a time. */
  publishWindow: number;
  prefetch: number;
  /** Each figure is the best of this many rounds. */
  rounds: number;
  /** Ceiling (a): bare amqplib. */
  rawMessagesPerSecond: number;
  /** EventPublisher + EventConsumer (amqp-connection-manager underneath). */
  oursMessagesPerSecond: number;
  rascalMessagesPerSecond: number;
}

/**
 * Our messaging layer beside rascal and bare amqplib on one workload, that of ceiling (a):
 * `messages` persistent messages published with confirms (at most PUBLISH_WINDOW outstanding)
 * into a durable quorum queue, consumed with manual acks at prefetch CONSUMER_PREFETCH; the rate
 * is messages over the time from the first publish to the last ack. All three send the same
 * `order.created` event and delete what they declared. After a short warm-up each, they run in
 * `rounds` rounds, one client after another, the order reversed every round, and each keeps its
 * best round: on a shared machine a slow round says more about the neighbours than the client.
 */
export async function messagingPeers(url: string, messages: number, rounds = 2): Promise<MessagingPeers> {
  const body = Buffer.from(JSON.stringify(orderCreatedEvent()));
  const clients = {
    raw: (n: number) => amqpPublishConsume(url, n, undefined, body),
    ours: (n: number) => ourMessaging(url, n),
    rascal: (n: number) => rascalMessaging(url, n),
  };
  const names = Object.keys(clients) as Array<keyof typeof clients>;
  const warmUp = Math.min(2_000, Math.ceil(messages / 10));
  for (const name of names) await clients[name](warmUp);
  const best = { raw: 0, ours: 0, rascal: 0 };
  for (let round = 0; round < rounds; round += 1) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      best[name] = Math.max(best[name], (await clients[name](messages)).messagesPerSecond);
    }
  }
  return {
    messages,
    publishWindow: PUBLISH_WINDOW,
    prefetch: CONSUMER_PREFETCH,
    rounds,
    rawMessagesPerSecond: best.raw,
    oursMessagesPerSecond: best.ours,
    rascalMessagesPerSecond: best.rascal,
  };
}
