/**
 * Names of every exchange and queue, derived from the namespace (empty in production; a random
 * prefix per integration test) and the service. One place, so tools (DLQ CLI, tests) agree.
 */
export interface TopologyNames {
  /** The one topic exchange all saga events are published to. */
  readonly exchange: string;
  /** Direct exchange the broker dead-letters to (delivery limit reached). */
  readonly deadLetterExchange: string;
  queue(service: string): string;
  /** Delay queue for the given retry attempt (1-based); expired messages go back to the service queue. */
  retryQueue(service: string, attempt: number): string;
  deadLetterQueue(service: string): string;
}

export function topologyNames(namespace: string): TopologyNames {
  return {
    exchange: `${namespace}saga.events`,
    deadLetterExchange: `${namespace}saga.dead-letter`,
    queue: (service) => `${namespace}${service}`,
    // `.delay.N`: a broker that ran an earlier version holds classic `.retry.N` queues, and a queue
    // cannot change its type in place (those drain by themselves and can be deleted).
    retryQueue: (service, attempt) => `${namespace}${service}.delay.${attempt}`,
    deadLetterQueue: (service) => `${namespace}${service}.dlq`,
  };
}
