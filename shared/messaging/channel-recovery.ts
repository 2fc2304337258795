import type { AmqpConnectionManager } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import type { Logger } from '../logging/logger.js';

const MAX_DELAY_MS = 30_000;

/**
 * Sets a channel up again after the broker closed it on its own (a channel error: a declaration
 * refused, a queue whose node is down), while the connection stays up. amqp-connection-manager
 * makes a new channel only when the whole connection reconnects, so such a channel would stay dead
 * and its consumer with it; here the connection is reconnected instead, after a delay that doubles
 * while the setup keeps failing (1 s, 2 s, … 30 s) and resets once it succeeds. A channel that
 * closes because its connection went down is left to the ordinary reconnect.
 */
export class ChannelRecovery {
  private current: Channel | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: { connection: AmqpConnectionManager; logger: Logger; name: string }) {}

  /** Call first in the channel's setup: watches the new channel. */
  watch(channel: Channel): void {
    this.current = channel;
    channel.once('close', () => this.closed(channel));
  }

  /** Call at the end of a setup that succeeded. */
  ready(): void {
    this.failures = 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private closed(channel: Channel): void {
    if (this.stopped || this.timer) return;
    const delayMs = Math.min(MAX_DELAY_MS, 1_000 * 2 ** this.failures);
    this.failures += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A new channel since (the connection came back by itself), or no connection to reuse: nothing to do.
      if (this.stopped || this.current !== channel || !this.options.connection.isConnected()) return;
      this.options.logger.warn('amqp channel closed by the broker; reconnecting to set it up again', {
        channel: this.options.name,
        after_ms: delayMs,
      });
      this.options.connection.reconnect();
    }, delayMs);
    this.timer.unref();
  }
}
