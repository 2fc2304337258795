import { SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import type { EventEnvelope } from '../contracts/envelope.js';
import { captureTraceContext, contextFrom, tracer, type TraceCarrier } from './trace-context.js';

/**
 * Messaging attributes of semantic conventions. They are still "development" there, so they are
 * spelled out here, as OpenTelemetry advises, instead of imported from the package's incubating
 * entry point (which may rename them in any minor version).
 */
const MESSAGING = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  routingKey: 'messaging.rabbitmq.destination.routing_key',
  bodySize: 'messaging.message.body.size',
} as const;

/** Our own, about the saga's handling of a message (no convention has them). */
const SAGA = {
  eventType: 'saga.event.type',
  outbox: 'saga.outbox.path',
  retryCount: 'saga.message.retry_count',
  outcome: 'saga.message.outcome',
  deadLetterReason: 'saga.dead_letter.reason',
} as const;

/** Which of the outbox relay's paths published an event: right after its commit, or the sweep. */
export type OutboxPath = 'after_commit' | 'sweep';

/**
 * The PRODUCER span of an event's publish (`publish order.created`), child of the context the event
 * was emitted in (`parent`, from its outbox row; none: a root). Returns the span and the headers
 * that carry its context to the consumers (undefined with tracing off).
 */
export function startPublishSpan(
  envelope: EventEnvelope,
  exchange: string,
  parent: TraceCarrier | undefined,
  outbox: OutboxPath | undefined,
): { span: Span; headers: TraceCarrier | undefined } {
  const parentContext = contextFrom(parent);
  const span = tracer.startSpan(
    `publish ${envelope.type}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [MESSAGING.system]: 'rabbitmq',
        [MESSAGING.destination]: exchange,
        [MESSAGING.operationType]: 'send',
        [MESSAGING.operationName]: 'publish',
        [MESSAGING.messageId]: envelope.id,
        [MESSAGING.conversationId]: envelope.correlation_id,
        [MESSAGING.routingKey]: envelope.type,
        [SAGA.eventType]: envelope.type,
        ...(outbox ? { [SAGA.outbox]: outbox } : {}),
      },
    },
    parentContext,
  );
  return { span, headers: captureTraceContext(trace.setSpan(parentContext, span)) };
}

/**
 * The CONSUMER span of a delivery (`process payment.succeeded`), child of the publish span whose
 * context the message's headers carry. Retries and dead letters are copies of the message with its
 * headers, so a retried delivery is another child of the same publish, with its retry count.
 * Returns the span and the context to run the handler in.
 */
export function startConsumeSpan(message: ConsumeMessage, queue: string, routingKey: string): { span: Span; context: Context } {
  const headers = message.properties.headers ?? {};
  const parent = contextFrom(headers);
  const type: unknown = message.properties.type;
  const retryCount = Number(headers['x-retry-count'] ?? 0) || 0;
  const span = tracer.startSpan(
    `process ${typeof type === 'string' && type ? type : routingKey}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [MESSAGING.system]: 'rabbitmq',
        [MESSAGING.destination]: queue,
        [MESSAGING.operationType]: 'process',
        [MESSAGING.operationName]: 'process',
        [MESSAGING.routingKey]: routingKey,
        [MESSAGING.bodySize]: message.content.length,
        [SAGA.retryCount]: retryCount,
        ...(typeof message.properties.messageId === 'string' ? { [MESSAGING.messageId]: message.properties.messageId } : {}),
        ...(typeof message.properties.correlationId === 'string' ? { [MESSAGING.conversationId]: message.properties.correlationId } : {}),
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * The body's size once decoded, on the active consume span: semantic conventions prefer the
 * uncompressed size when both are known (the span starts with the size as delivered).
 */
export function noteDecodedBodySize(bytes: number): void {
  trace.getActiveSpan()?.setAttribute(MESSAGING.bodySize, bytes);
}

/**
 * Ends a consume span with what became of the delivery: `ack` is a success; `retry` (sent to a
 * delay queue), `dead_letter` and `requeue` (a forward that failed) are errors. The handler's own
 * error, when there was one, was recorded on the span where it was caught.
 */
export function endConsumeSpan(span: Span, settled: { outcome: string; eventType?: string; reason?: string } | undefined): void {
  if (span.isRecording()) {
    if (settled) {
      span.setAttribute(SAGA.outcome, settled.outcome);
      if (settled.eventType) {
        // The name was the message's `type` property or routing key: the envelope's own type wins.
        span.updateName(`process ${settled.eventType}`);
        span.setAttribute(SAGA.eventType, settled.eventType);
      }
      if (settled.reason) span.setAttribute(SAGA.deadLetterReason, settled.reason);
    }
    if (!settled || settled.outcome !== 'ack') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: settled ? `${settled.outcome}${settled.reason ? `: ${settled.reason}` : ''}` : 'processing failed' });
    }
  }
  span.end();
}
