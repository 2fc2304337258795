import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * How a message body travels, as the `encoding` label of the body metrics says it: `identity` (the
 * JSON as it is: `content_encoding` utf-8, identity or absent), `gzip`, or `other` (an encoding no
 * consumer here reads).
 */
export type BodyEncoding = 'identity' | 'gzip' | 'other';

/** A body ready to publish, with the AMQP `content_encoding` that says how to read it. */
export interface EncodedBody {
  content: Buffer;
  contentEncoding: 'utf-8' | 'gzip';
  encoding: Exclude<BodyEncoding, 'other'>;
}

/** A received body turned back into its JSON bytes, or why it could not be. */
export type DecodedBody =
  | { ok: true; json: Buffer; encoding: Exclude<BodyEncoding, 'other'> }
  | { ok: false; encoding: BodyEncoding; detail: string };

/**
 * Most bytes a gzip'd body may inflate to. Events are closed schemas of at most some tens of KB
 * (100 lines an order); the cap keeps a corrupt or hostile body (gzip inflates up to ~1000:1) from
 * taking a consumer's memory, one prefetched message after another.
 */
export const MAX_DECODED_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The body to publish for `json`: gzip'd when it is larger than `compressAboveBytes` (0: never),
 * else as it is, with `content_encoding` utf-8 as before compression existed.
 *
 * Synchronous on purpose: event bodies are small, and on this machine gzipSync took ~40-50 µs for
 * bodies of 0.7-10 KB, while the async `gzip` (a hop to libuv's thread pool and back) took
 * ~80-130 µs each one after another and ~220-320 µs each with 2 000 at once; the publish's own
 * confirm round trip is far longer than either.
 */
export function encodeBody(json: Buffer, compressAboveBytes: number): EncodedBody {
  if (compressAboveBytes > 0 && json.length > compressAboveBytes) {
    return { content: gzipSync(json), contentEncoding: 'gzip', encoding: 'gzip' };
  }
  return { content: json, contentEncoding: 'utf-8', encoding: 'identity' };
}

/** The `encoding` label of a message's `content_encoding` property (case-insensitive). */
export function bodyEncodingOf(contentEncoding: unknown): BodyEncoding {
  if (contentEncoding === undefined || contentEncoding === null || contentEncoding === '') return 'identity';
  if (typeof contentEncoding !== 'string') return 'other';
  const name = contentEncoding.trim().toLowerCase();
  if (name === 'utf-8' || name === 'utf8' || name === 'identity') return 'identity';
  return name === 'gzip' ? 'gzip' : 'other';
}

/**
 * The JSON bytes a received body carries: gunzipped when `content_encoding` is gzip (at most
 * {@link MAX_DECODED_BODY_BYTES}), as they are when it is utf-8, identity or absent. Any other
 * encoding, or a gzip body that does not inflate, fails with a detail saying so.
 */
export function decodeBody(content: Buffer, contentEncoding: unknown): DecodedBody {
  const encoding = bodyEncodingOf(contentEncoding);
  if (encoding === 'identity') return { ok: true, json: content, encoding };
  if (encoding === 'other') {
    return { ok: false, encoding, detail: `unsupported content_encoding ${JSON.stringify(String(contentEncoding)).slice(0, 60)} (utf-8 or gzip expected)` };
  }
  try {
    return { ok: true, json: gunzipSync(content, { maxOutputLength: MAX_DECODED_BODY_BYTES }), encoding };
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    const reason = tooLarge ? `it inflates to more than ${MAX_DECODED_BODY_BYTES} bytes` : (error as Error).message;
    return { ok: false, encoding, detail: `content_encoding is gzip but the body could not be gunzipped: ${reason}` };
  }
}
