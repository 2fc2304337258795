import { EventEnvelope } from '../contracts/envelope.js';
import { eventSchemas, eventVersion, isEventType, type EventType, type SagaEvent } from '../contracts/events.js';
import { compileValidator, type Validator } from '../contracts/validator.js';

export type DecodeFailure = 'unparseable' | 'schema_invalid' | 'unknown_type';

export type DecodeResult =
  | { ok: true; event: SagaEvent }
  | { ok: false; reason: DecodeFailure; detail: string };

const checkEnvelope = compileValidator(EventEnvelope);
const checkData = Object.fromEntries(
  Object.entries(eventSchemas).map(([type, schema]) => [type, compileValidator(schema)]),
) as Record<EventType, Validator<unknown>>;

/**
 * Turns a message body into a checked saga event, or says why it cannot be one. Consumers
 * validate everything they read: the envelope, the version, and the event's own data schema.
 */
export function decodeEvent(content: Buffer): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'unparseable', detail: (error as Error).message };
  }
  const envelope = checkEnvelope(parsed);
  if (!envelope.ok) {
    return { ok: false, reason: 'schema_invalid', detail: describe(envelope.issues) };
  }
  const { type, version, data } = envelope.value;
  if (!isEventType(type)) return { ok: false, reason: 'unknown_type', detail: `unknown event type ${type}` };
  if (version !== eventVersion(type)) {
    return { ok: false, reason: 'schema_invalid', detail: `unsupported version ${version} of ${type}` };
  }
  const checked = checkData[type](data);
  if (!checked.ok) return { ok: false, reason: 'schema_invalid', detail: describe(checked.issues) };
  return { ok: true, event: envelope.value as SagaEvent };
}

function describe(issues: ReadonlyArray<{ path: string; message: string }>): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path} ${issue.message}`)
    .join('; ');
}
