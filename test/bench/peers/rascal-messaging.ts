import { randomBytes } from 'node:crypto';
import rascal, { type BrokerAsPromised } from 'rascal';
import { deleteAmqpObjects } from '../amqp-cleanup.js';
import { withTimeout } from '../with-timeout.js';
import { CONSUMER_PREFETCH, countdown, driveWorkload, orderCreatedEvent, type MessagingRate } from './amqp-workload.js';

const PUBLICATION = 'bench';
const SUBSCRIPTION = 'bench';

/**
 * rascal on the workload of ceiling (a), configured like it: a confirmed, persistent publication
 * to a durable quorum queue through the default exchange, and a subscription with the same
 * prefetch whose handler acks each message. Publisher and subscriber each get a broker (so a
 * connection) of their own, as in the ceiling. Everything else is rascal's defaults, among them a
 * confirm-channel pool of 5 that holds a channel until its message is confirmed: however wide the
 * publish window, at most 5 messages await a confirm, so rascal's rate here is about 5 divided by
 * the quorum queue's confirm latency.
 */
export async function rascalMessaging(url: string, messages: number): Promise<MessagingRate> {
  const queue = `bench_${randomBytes(4).toString('hex')}_rascal`;
  const config = {
    vhosts: {
      '/': {
        connection: { url, socketOptions: { noDelay: true } },
        queues: { [queue]: { options: { durable: true, arguments: { 'x-queue-type': 'quorum' } } } },
        publications: { [PUBLICATION]: { queue, confirm: true, options: { persistent: true, contentType: 'application/json' } } },
        subscriptions: { [SUBSCRIPTION]: { queue, prefetch: CONSUMER_PREFETCH } },
      },
    },
  };
  const brokers: BrokerAsPromised[] = [];
  const createBroker = async () => {
    const broker = await withTimeout(rascal.BrokerAsPromised.create(config), 15_000, 'a rascal broker');
    broker.on('error', () => undefined);
    brokers.push(broker);
    return broker;
  };
  try {
    const publisher = await createBroker();
    const subscriber = await createBroker();
    const { count, done } = countdown(messages);
    const subscription = await subscriber.subscribe(SUBSCRIPTION);
    subscription.on('error', () => undefined);
    const subscribed = new Promise((resolve) => subscription.once('subscribed', resolve));
    subscription.on('message', (_message, _content, ackOrNack) => {
      ackOrNack();
      count();
    });
    await withTimeout(subscribed, 15_000, 'the rascal subscription');
    const body = Buffer.from(JSON.stringify(orderCreatedEvent()));
    const publish = () =>
      new Promise<void>((resolve, reject) => {
        publisher.publish(PUBLICATION, body).then((session) => {
          session.on('success', () => resolve());
          session.on('error', reject);
        }, reject);
      });
    return await driveWorkload(messages, publish, done);
  } finally {
    for (const broker of brokers) await withTimeout(broker.shutdown(), 15_000, 'a rascal shutdown').catch(() => undefined);
    await deleteAmqpObjects(url, { queues: [queue] });
  }
}
