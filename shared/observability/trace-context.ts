import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span, type TextMapGetter } from '@opentelemetry/api';
import { redactText } from '../logging/redact.js';

/**
 * The tracer every span of ours is made with. Through the API's proxy: while no SDK is registered
 * (tracing off, the default) it makes non-recording spans that cost an object each and export
 * nothing; once `startTracing` registered one, the same tracer records.
 */
export const tracer = trace.getTracer('order-saga-platform');

/**
 * A trace context in the W3C Trace Context text form (`traceparent`, maybe `tracestate` and
 * `baggage`), as it is kept in an outbox row and carried in AMQP and HTTP headers.
 */
export type TraceCarrier = Record<string, string>;

/**
 * The active context in carrier form, or undefined when there is none to carry (tracing off, or no
 * span active: a timer's work, such as the deadline sweep). Nothing is allocated past the empty
 * carrier when the propagator is the API's no-op one.
 */
export function captureTraceContext(from: Context = context.active()): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(from, carrier);
  for (const _key in carrier) return carrier;
  return undefined;
}

/** Header values as amqplib decodes them: strings, or Buffers for byte strings. */
const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
};

/**
 * The context a carrier (an outbox row's, a message's headers) describes, on top of the root: never
 * on top of whatever context happens to be active where it is read (a relay's publish runs in the
 * context of some unrelated unit of work).
 */
export function contextFrom(carrier: Record<string, unknown> | null | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier, headerGetter);
}

/** The ids a log line written inside a span carries, or undefined outside one (and whenever tracing is off). */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * Marks a span failed: status ERROR with the error's message, and the error recorded (see
 * {@link recordError}).
 */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  recordError(span, error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: redactText(error instanceof Error ? error.message : String(error)) });
}

/**
 * Records an error on a span, leaving its status to the caller: `error.type` (an AppError's stable
 * code, else the class name) and an exception event. Spans leave the process as log lines do, so
 * the message and stack are redacted as log lines are.
 */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error instanceof Error) {
    const code: unknown = (error as { code?: unknown }).code;
    span.setAttribute('error.type', typeof code === 'string' ? code : error.name);
    span.recordException({ name: error.name, message: redactText(error.message), ...(error.stack ? { stack: redactText(error.stack) } : {}) });
  } else {
    span.setAttribute('error.type', '_OTHER');
    span.recordException({ name: 'Error', message: redactText(String(error)) });
  }
}
