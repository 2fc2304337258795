import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../contracts/envelope.js';
import { decodeEvent } from './message-decoder.js';

const orderId = randomUUID();
const valid = newEnvelope('order.cancel_requested', 1, { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
const encode = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('message decoder', () => {
  it('when the envelope and data are valid, then the event is returned with its JSON size', () => {
    expect(decodeEvent(encode(valid))).toEqual({ ok: true, event: valid, jsonBytes: encode(valid).length });
    expect(decodeEvent(encode(valid), 'utf-8')).toEqual({ ok: true, event: valid, jsonBytes: encode(valid).length });
  });

  it('when the body is gzip\'d and content_encoding says gzip, then it is gunzipped and the event returned', () => {
    expect(decodeEvent(gzipSync(encode(valid)), 'gzip')).toEqual({ ok: true, event: valid, jsonBytes: encode(valid).length });
  });

  it('when a gzip\'d body comes without content_encoding gzip, then it is unparseable', () => {
    expect(decodeEvent(gzipSync(encode(valid)), 'utf-8')).toMatchObject({ ok: false, reason: 'unparseable' });
  });

  it('when content_encoding is gzip but the body is corrupt, then it is unparseable, saying so', () => {
    const corrupt = gzipSync(encode(valid));
    corrupt.fill(0, 10, 30);
    const decoded = decodeEvent(corrupt, 'gzip');
    expect(decoded).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(decoded.ok ? '' : decoded.detail).toMatch(/^content_encoding is gzip but the body could not be gunzipped: /);
    expect(decoded.jsonBytes).toBeUndefined();
  });

  it('when content_encoding is neither utf-8, identity nor gzip, then it is unparseable', () => {
    expect(decodeEvent(encode(valid), 'deflate')).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: 'unsupported content_encoding "deflate" (utf-8 or gzip expected)',
    });
  });

  it('when the body is not JSON, then it is unparseable', () => {
    expect(decodeEvent(encode('{nope'))).toMatchObject({ ok: false, reason: 'unparseable' });
  });

  it('when the envelope lacks a field, the data breaks its schema or the version is unknown, then it is schema_invalid', () => {
    const { id: _id, ...noId } = valid;
    expect(decodeEvent(encode(noId))).toMatchObject({ ok: false, reason: 'schema_invalid' });
    expect(decodeEvent(encode({ ...valid, data: { order_id: orderId, reason: 'bored' } }))).toMatchObject({
      ok: false,
      reason: 'schema_invalid',
    });
    expect(decodeEvent(encode({ ...valid, version: 2 }))).toMatchObject({ ok: false, reason: 'schema_invalid' });
    expect(decodeEvent(encode({ ...valid, data: { ...valid.data, extra: 1 } }))).toMatchObject({ ok: false, reason: 'schema_invalid' });
  });

  it('when the type is not a saga event, then it is unknown_type', () => {
    expect(decodeEvent(encode({ ...valid, type: 'order.teleported' }))).toMatchObject({ ok: false, reason: 'unknown_type' });
  });
});
