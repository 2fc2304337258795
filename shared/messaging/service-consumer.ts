import { EventConsumer, type EventConsumerOptions, type LaneState } from './event-consumer.js';
import { lanesOf, type LaneBindings } from './service-topology.js';
import { LANES, type Lane } from './topology-names.js';

export interface ServiceConsumerOptions extends Omit<EventConsumerOptions, 'lane' | 'bindings' | 'prefetch'> {
  /** The routing keys of each lane (for a saga service: `sagaBindingsOf(service)`). */
  bindings: LaneBindings;
  /** Unacked messages each lane's consumer holds at once. */
  prefetch: Readonly<Record<Lane, number>>;
}

/**
 * A service's consumers, one per lane, driven as one: compensations are taken from their own queue
 * on their own channel, beside the step lane, so one waiting behind a backlog of forward steps is
 * handled at once. Nothing that must stay ordered for an order is split by this: every handler
 * takes the order's lock and decides from the order's rows, so a compensation that overtakes its
 * step leaves a tombstone the step then finds (as after any retry or redelivery).
 */
export class ServiceConsumer {
  private readonly consumers: EventConsumer[];

  constructor(options: ServiceConsumerOptions) {
    const { bindings, prefetch, ...common } = options;
    // The compensation lane first: at start it subscribes first, ahead of any backlog of steps.
    const lanes = lanesOf(bindings).sort((a, b) => Number(b === 'compensation') - Number(a === 'compensation'));
    this.consumers = lanes.map((lane) => new EventConsumer({ ...common, bindings, lane, prefetch: prefetch[lane] }));
  }

  /** Each lane's queues and what its consumer holds, the step lane first. */
  lanes(): LaneState[] {
    return this.consumers.map((consumer) => consumer.state).sort((a, b) => LANES.indexOf(a.lane) - LANES.indexOf(b.lane));
  }

  /** Declares the topology and starts consuming every lane. */
  async start(): Promise<void> {
    for (const consumer of this.consumers) await consumer.start();
  }

  /** Stops taking new messages on every lane, or on `lane` only (see {@link EventConsumer.pause}). */
  async pause(lane?: Lane): Promise<void> {
    await Promise.all(this.on(lane).map((consumer) => consumer.pause()));
  }

  /**
   * Takes messages again on every lane (or on `lane` only), each holding at most `prefetch` unacked
   * messages, or its own configured prefetch when none is given.
   */
  async resume(prefetch?: number, lane?: Lane): Promise<void> {
    await Promise.all(this.on(lane).map((consumer) => consumer.resume(prefetch)));
  }

  private on(lane: Lane | undefined): EventConsumer[] {
    return lane === undefined ? this.consumers : this.consumers.filter((consumer) => consumer.lane === lane);
  }

  /** Stops every lane, letting the messages in hand finish (see {@link EventConsumer.stop}). */
  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
  }
}
