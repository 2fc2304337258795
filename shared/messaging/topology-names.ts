import type { HandlerRole } from '../contracts/saga.js';

/**
 * A service's queue per handler role: the `step` lane (the service's queue, under its original
 * name) and the `compensation` lane, consumed beside it by a consumer of its own, so a cancellation
 * or a refund is taken at once instead of waiting behind a backlog of forward steps. (Quorum queues
 * have no priorities before RabbitMQ 4.0, so a priority lane is a queue of its own.)
 */
export type Lane = HandlerRole;

/** Every lane, the step lane first. */
export const LANES: readonly Lane[] = ['step', 'compensation'];

/**
 * Names of every exchange and queue, derived from the namespace (empty in production; a random
 * prefix per integration test) and the service. One place, so tools (DLQ CLI, tests) agree.
 */
export interface TopologyNames {
  /** The one topic exchange all saga events are published to. */
  readonly exchange: string;
  /** Direct exchange the broker dead-letters to (delivery limit reached). */
  readonly deadLetterExchange: string;
  /** Fanout exchange of the services' status reports (operations telemetry, not saga events). */
  readonly statusExchange: string;
  /** The queue of one of a service's lanes. @defaultValue lane 'step' (the service's queue) */
  queue(service: string, lane?: Lane): string;
  /**
   * Delay queue of a lane for the given retry attempt (1-based); expired messages go back to that
   * lane's queue. @defaultValue lane 'step'
   */
  retryQueue(service: string, attempt: number, lane?: Lane): string;
  /** The service's dead-letter queue, one for both lanes (a letter's headers name its lane's queue). */
  deadLetterQueue(service: string): string;
  /** Every queue of a service: each lane's queue and delay queues, and the dead-letter queue. */
  serviceQueues(service: string, retryLevels: number): string[];
  /** The lane whose queue is `queue` (a lane's queue itself, not a delay queue), if it is one of `service`'s. */
  laneOf(service: string, queue: string): Lane | undefined;
}

export function topologyNames(namespace: string): TopologyNames {
  // The step lane keeps the name the service's one queue had before lanes existed, so a broker that
  // ran an earlier version keeps its queue (and what waits in it).
  const queue = (service: string, lane: Lane = 'step') => `${namespace}${service}${lane === 'step' ? '' : `.${lane}`}`;
  // `.delay.N`: a broker that ran an earlier version holds classic `.retry.N` queues, and a queue
  // cannot change its type in place (those drain by themselves and can be deleted).
  const retryQueue = (service: string, attempt: number, lane: Lane = 'step') => `${queue(service, lane)}.delay.${attempt}`;
  const deadLetterQueue = (service: string) => `${namespace}${service}.dlq`;
  return {
    exchange: `${namespace}saga.events`,
    deadLetterExchange: `${namespace}saga.dead-letter`,
    statusExchange: `${namespace}service.status`,
    queue,
    retryQueue,
    deadLetterQueue,
    serviceQueues: (service, retryLevels) => [
      ...LANES.flatMap((lane) => [
        queue(service, lane),
        ...Array.from({ length: retryLevels }, (_, i) => retryQueue(service, i + 1, lane)),
      ]),
      deadLetterQueue(service),
    ],
    laneOf: (service, name) => LANES.find((lane) => queue(service, lane) === name),
  };
}
