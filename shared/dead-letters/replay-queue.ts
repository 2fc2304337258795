import { isEventType, roleOf, SAGA_SERVICES, type SagaService } from '../contracts/events.js';
import { DEAD_LETTER_HEADERS } from '../messaging/dead-letter-headers.js';
import type { Lane, TopologyNames } from '../messaging/topology-names.js';
import type { DeadLetter } from './dead-letter-store.js';

/**
 * The queue a dead letter is replayed to: the lane of its service it was consumed from, so a
 * replayed compensation keeps its priority. Read, in this order, from the queue the consumer
 * recorded in the letter's headers; from the broker's `x-death` record (a letter the broker
 * dead-lettered at the delivery limit); from the role the saga gives the service's handler of the
 * event (a letter with neither, e.g. put in the dead-letter queue by hand); else the step lane. A
 * queue named in a header counts only if it is one of the service's lanes: a replay never goes
 * anywhere else.
 */
export function replayQueueOf(names: TopologyNames, letter: Pick<DeadLetter, 'service' | 'event_type' | 'properties'>): string {
  const { service } = letter;
  const headers = (letter.properties as { headers?: Record<string, unknown> }).headers ?? {};
  const laneOf = (queue: unknown): Lane | undefined => (typeof queue === 'string' ? names.laneOf(service, queue) : undefined);
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as { queue?: unknown }[]) : [];
  const lane =
    laneOf(headers[DEAD_LETTER_HEADERS.queue]) ??
    deaths.map((death) => laneOf(death?.queue)).find((found) => found !== undefined) ??
    sagaLaneOf(service, letter.event_type) ??
    'step';
  return names.queue(service, lane);
}

function sagaLaneOf(service: string, eventType: string | null): Lane | undefined {
  if (!eventType || !isEventType(eventType) || !isSagaService(service)) return undefined;
  return roleOf(eventType, service);
}

function isSagaService(service: string): service is SagaService {
  return (SAGA_SERVICES as readonly string[]).includes(service);
}
