import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../contracts/envelope.js';
import { decodeEvent } from './message-decoder.js';

const orderId = randomUUID();
const valid = newEnvelope('order.cancel_requested', 1, { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
const encode = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('message decoder', () => {
  it('when the envelope and data are valid, then the event is returned', () => {
    expect(decodeEvent(encode(valid))).toEqual({ ok: true, event: valid });
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
