/**
 * The little of rascal's promise API the bench uses: rascal ships no types, and @types/rascal
 * describes rascal 10.
 */
declare module 'rascal' {
  import type { EventEmitter } from 'node:events';
  import type { Message } from 'amqplib';

  /** Emits `success` (confirmed), `error` and `return` for one published message. */
  export type PublicationSession = EventEmitter;

  /** Emits `message` (message, content, ackOrNack), `subscribed` and `error`. */
  export interface SubscriberSession extends EventEmitter {
    on(event: 'message', listener: (message: Message, content: unknown, ackOrNack: () => void) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
    cancel(): Promise<void>;
  }

  export interface BrokerAsPromised extends EventEmitter {
    publish(publication: string, message: Buffer | string | object, overrides?: object): Promise<PublicationSession>;
    subscribe(subscription: string, overrides?: object): Promise<SubscriberSession>;
    shutdown(): Promise<void>;
  }

  const rascal: {
    BrokerAsPromised: { create(config: object): Promise<BrokerAsPromised> };
  };
  export default rascal;
}
