import { EventEnvelope } from '../contracts/envelope.js';
import { eventSchemas, eventVersion, isEventType, type EventType, type SagaEvent } from '../contracts/events.js';
import { compileValidator, type Validator } from '../contracts/validator.js';
import { decodeBody } from './body-encoding.js';

export type DecodeFailure = 'unparseable' | 'schema_invalid' | 'unknown_type';

export type DecodeResult =
  | { ok: true; event: SagaEvent }
  | { ok: false; reason: DecodeFailure; detail: string };

/** A decoded event, with the size of its JSON body (what a gzip'd body inflated to). */
export type DecodedMessage = DecodeResult & { jsonBytes?: number };

const checkEnvelope = compileValidator(EventEnvelope);
const checkData = Object.fromEntries(
  Object.entries(eventSchemas).map(([type, schema]) => [type, compileValidator(schema)]),
) as Record<EventType, Validator<unknown>>;

/**
 * Turns a message body into a checked saga event, or says why it cannot be one. Consumers
 * validate everything they read: the envelope, the version, and the event's own data schema.
 * `contentEncoding` is the message's AMQP `content_encoding`: a gzip body is gunzipped first; one
 * that does not inflate, or an encoding other than gzip, utf-8, identity or none, is unparseable.
 * `jsonBytes`: the size of the JSON once decoded (unset when the body could not be).
 */
export function decodeEvent(content: Buffer, contentEncoding?: unknown): DecodedMessage {
  const body = decodeBody(content, contentEncoding);
  if (!body.ok) return { ok: false, reason: 'unparseable', detail: body.detail };
  return { ...decodeJson(body.json), jsonBytes: body.json.length };
}

function decodeJson(json: Buffer): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
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
