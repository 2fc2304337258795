import amqplib, { type ConfirmChannel, type ChannelModel, type GetMessage, type Options } from 'amqplib';
import { topologyNames } from '../../shared/messaging/topology-names.js';

/** A test's own broker connection: publishes raw messages and reads dead-letter queues. */
export class TestBroker {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
    readonly namespace: string,
  ) {}

  static async connect(url: string, namespace: string): Promise<TestBroker> {
    const connection = await amqplib.connect(url, { noDelay: true });
    connection.on('error', () => undefined);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    return new TestBroker(connection, channel, namespace);
  }

  get names() {
    return topologyNames(this.namespace);
  }

  /** Publishes raw bytes to the saga exchange and waits for the broker's confirm. */
  async publish(routingKey: string, content: Buffer | string | object, properties: Options.Publish = {}): Promise<void> {
    const body = Buffer.isBuffer(content) ? content : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
    this.channel.publish(this.names.exchange, routingKey, body, { persistent: true, contentType: 'application/json', ...properties });
    await this.channel.waitForConfirms();
  }

  /** Puts a message straight into one queue (through the default exchange), confirmed. */
  async sendToQueue(queue: string, content: object, properties: Options.Publish = {}): Promise<void> {
    this.channel.sendToQueue(queue, Buffer.from(JSON.stringify(content)), { persistent: true, contentType: 'application/json', ...properties });
    await this.channel.waitForConfirms();
  }

  /** Takes every message currently in `queue` (acking them). */
  async drain(queue: string): Promise<GetMessage[]> {
    const messages: GetMessage[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      const message = await this.channel.get(queue, { noAck: true });
      if (!message) break;
      messages.push(message);
    }
    return messages;
  }

  async messageCount(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Deletes every queue and exchange of the namespace (services stopped first). */
  async deleteTopology(services: string[], retryLevels: number): Promise<void> {
    const names = this.names;
    const queues = services.flatMap((service) => [
      names.queue(service),
      names.deadLetterQueue(service),
      ...Array.from({ length: retryLevels }, (_, i) => names.retryQueue(service, i + 1)),
    ]);
    for (const queue of queues) await this.channel.deleteQueue(queue);
    await this.channel.deleteExchange(names.exchange);
    await this.channel.deleteExchange(names.deadLetterExchange);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
