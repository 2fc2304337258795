import type { EventPublisher } from '../messaging/event-publisher.js';
import { DEAD_LETTER_HEADERS } from '../messaging/dead-letter-headers.js';
import type { TopologyNames } from '../messaging/topology-names.js';
import type { DeadLetter, DeadLetterStore } from './dead-letter-store.js';
import { replayQueueOf } from './replay-queue.js';

/**
 * Sends a dead letter back to the queue it came from, its service's step or compensation lane
 * ({@link replayQueueOf}), confirmed, with its failure headers and retry count cleared so it gets a
 * full set of attempts, and records the replay. The message keeps its id: a handler that already
 * applied it skips it (inbox). The stored body goes with the content encoding it was archived with
 * (utf-8 for a gzip'd body, which the archiver stores gunzipped).
 */
export async function replayDeadLetter(
  deps: { store: DeadLetterStore; publisher: EventPublisher; names: TopologyNames },
  letter: DeadLetter,
  requestedBy: string,
): Promise<void> {
  const { headers = {}, messageId, type, contentType, contentEncoding, correlationId, timestamp } = letter.properties as {
    headers?: Record<string, unknown>;
    messageId?: string | null;
    type?: string | null;
    contentType?: string | null;
    contentEncoding?: string | null;
    correlationId?: string | null;
    timestamp?: number | null;
  };
  const cleaned = Object.fromEntries(
    Object.entries(headers).filter(([key]) => !(Object.values(DEAD_LETTER_HEADERS) as string[]).includes(key) && key !== 'x-death'),
  );
  await deps.publisher.sendToQueue(replayQueueOf(deps.names, letter), letter.body, {
    headers: { ...cleaned, 'x-replayed-from': letter.id },
    ...(messageId ? { messageId } : {}),
    ...(type ? { type } : {}),
    ...(contentType ? { contentType } : {}),
    ...(contentEncoding ? { contentEncoding } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(timestamp ? { timestamp } : {}),
  });
  await deps.store.recordReplay(letter.id, requestedBy);
}
