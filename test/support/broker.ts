import amqplib, { type ConfirmChannel, type ChannelModel, type GetMessage, type Options } from 'amqplib';
import { parseAmqpUrls } from '../../shared/config/amqp-urls.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';

interface Connected {
  connection: ChannelModel;
  channel: ConfirmChannel;
}

/**
 * A test's own broker connection: publishes raw messages and reads queues. Once the broker has
 * closed it (a restart, every connection closed on purpose, a channel error) the next call opens a
 * new one.
 */
export class TestBroker {
  private connected: Promise<Connected>;
  private broken = false;
  private closing = false;

  private constructor(
    private readonly url: string,
    readonly namespace: string,
  ) {
    this.connected = this.open();
  }

  static async connect(url: string, namespace: string): Promise<TestBroker> {
    const broker = new TestBroker(url, namespace);
    await broker.connected;
    return broker;
  }

  private async open(): Promise<Connected> {
    const connection = await connectToAnyNode(this.url);
    connection.on('error', () => undefined);
    connection.once('close', () => {
      if (!this.closing) this.broken = true;
    });
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    // A channel error (e.g. checking a queue that is not there) closes the channel: start afresh.
    channel.once('close', () => void connection.close().catch(() => undefined));
    return { connection, channel };
  }

  private async channel(): Promise<ConfirmChannel> {
    if (this.broken) {
      this.broken = false;
      this.connected = this.open();
    }
    try {
      return (await this.connected).channel;
    } catch (error) {
      this.broken = true; // the broker was down: try again on the next call
      throw error;
    }
  }

  get names() {
    return topologyNames(this.namespace);
  }

  /** Publishes raw bytes to the saga exchange and waits for the broker's confirm. */
  async publish(routingKey: string, content: Buffer | string | object, properties: Options.Publish = {}): Promise<void> {
    const channel = await this.channel();
    channel.publish(this.names.exchange, routingKey, toBuffer(content), { persistent: true, contentType: 'application/json', ...properties });
    await channel.waitForConfirms();
  }

  /** Puts a message straight into one queue (through the default exchange), confirmed. */
  async sendToQueue(queue: string, content: Buffer | string | object, properties: Options.Publish = {}): Promise<void> {
    const channel = await this.channel();
    channel.sendToQueue(queue, toBuffer(content), { persistent: true, contentType: 'application/json', ...properties });
    await channel.waitForConfirms();
  }

  /** Takes every message currently in `queue` (acking them). */
  async drain(queue: string): Promise<GetMessage[]> {
    const channel = await this.channel();
    const messages: GetMessage[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      messages.push(message);
    }
    return messages;
  }

  async messageCount(queue: string): Promise<number> {
    return (await (await this.channel()).checkQueue(queue)).messageCount;
  }

  /** Consumers subscribed to `queue` now (0 while its service has paused it). */
  async consumerCount(queue: string): Promise<number> {
    return (await (await this.channel()).checkQueue(queue)).consumerCount;
  }

  /** Declares a durable queue with `args` (e.g. one that conflicts with what a service declares). */
  async declareQueue(queue: string, args: Record<string, unknown> = {}): Promise<void> {
    await (await this.channel()).assertQueue(queue, { durable: true, arguments: args });
  }

  /** Binds `queue` to the saga exchange for `routingKey` (`#`: every event). */
  async bind(queue: string, routingKey: string): Promise<void> {
    await (await this.channel()).bindQueue(queue, this.names.exchange, routingKey);
  }

  async deleteQueue(queue: string): Promise<void> {
    await (await this.channel()).deleteQueue(queue);
  }

  /** Removes the binding of `queue` to the saga exchange for `routingKey`. */
  async unbind(queue: string, routingKey: string): Promise<void> {
    await (await this.channel()).unbindQueue(queue, this.names.exchange, routingKey);
  }

  /**
   * Deletes every queue and exchange of the namespace (services stopped first): each service's
   * lanes (step and compensation) with their delay queues, and its dead-letter queue. Deleting a
   * queue that does not exist is no error.
   */
  async deleteTopology(services: string[], retryLevels: number): Promise<void> {
    const names = this.names;
    const queues = services.flatMap((service) => names.serviceQueues(service, retryLevels));
    const channel = await this.channel();
    for (const queue of queues) await channel.deleteQueue(queue);
    await channel.deleteExchange(names.exchange);
    await channel.deleteExchange(names.deadLetterExchange);
    await channel.deleteExchange(names.statusExchange);
  }

  async close(): Promise<void> {
    this.closing = true;
    await (await this.connected.catch(() => undefined))?.connection.close().catch(() => undefined);
  }
}

/** The first node of `url` (one URL, or a cluster's comma-separated list as AMQP_URL takes it) that accepts a connection. */
async function connectToAnyNode(url: string): Promise<ChannelModel> {
  let lastError: unknown;
  for (const node of parseAmqpUrls(url)) {
    try {
      return await amqplib.connect(node, { noDelay: true });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function toBuffer(content: Buffer | string | object): Buffer {
  return Buffer.isBuffer(content) ? content : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
}
