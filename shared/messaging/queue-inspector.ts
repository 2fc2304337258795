import type { AmqpConnectionManager } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';

/** What the broker says of a queue: messages ready (not delivered) and consumers subscribed. */
export interface QueueFigures {
  ready: number;
  consumers: number;
}

/**
 * Reads queues' figures from the broker (a passive `queue.declare`), for metrics and the status
 * reports, on a channel of its own opened on the current connection when needed: a passive check of
 * a queue that was deleted behind our back closes the channel it ran on, and that must never be a
 * consumer's or the publisher's. The next read opens a new one.
 */
export class QueueInspector {
  private channel: Channel | undefined;

  constructor(private readonly connection: AmqpConnectionManager) {}

  /** The queue's figures; throws while the broker is unreachable or when the queue does not exist. */
  async figures(queue: string): Promise<QueueFigures> {
    const { messageCount, consumerCount } = await (await this.open()).checkQueue(queue);
    return { ready: messageCount, consumers: consumerCount };
  }

  private async open(): Promise<Channel> {
    if (this.channel) return this.channel;
    const model = this.connection.connection;
    if (!model) throw new Error('not connected to the broker');
    const opened = await model.createChannel();
    opened.on('error', () => undefined);
    opened.on('close', () => {
      if (this.channel === opened) this.channel = undefined;
    });
    this.channel = opened;
    return opened;
  }
}
