import { describe, expect, it } from 'vitest';
import { orderIdOf } from './order-id-of.js';

const ORDER = '0b6f3a52-6d3e-4c55-9d0e-3f1f4c0a9b21';
const OTHER = '5e9a1c7d-2b4f-4e8a-8c3d-7a6b5c4d3e2f';
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('orderIdOf', () => {
  const table: [when: string, body: Buffer, expected: string | null][] = [
    ['the event data names the order', json({ type: 'payment.succeeded', correlation_id: OTHER, data: { order_id: ORDER } }), ORDER],
    ['only the envelope correlates it', json({ type: 'x', correlation_id: ORDER, data: {} }), ORDER],
    ['the order id is in capitals', json({ data: { order_id: ORDER.toUpperCase() } }), ORDER],
    ['the data order id is not a UUID', json({ correlation_id: ORDER, data: { order_id: 'nope' } }), ORDER],
    ['nothing names an order', json({ not: 'an event' }), null],
    ['the body is a JSON array', json([ORDER]), null],
    ['the body is not JSON', Buffer.from('{"data": {"order_id"'), null],
    ['the body is binary', Buffer.from([0xff, 0xfe, 0x00, 0x80]), null],
  ];
  it.each(table)('when %s, then the order id is read accordingly', (_when, body, expected) => {
    expect(orderIdOf(body)).toBe(expected);
  });
});
