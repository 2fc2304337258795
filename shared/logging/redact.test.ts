import { describe, expect, it } from 'vitest';
import { redact, redactText } from './redact.js';

describe('redaction', () => {
  it('when secrets sit in known fields, then their values are replaced', () => {
    expect(
      redact({ payment_source: 'tok_visa', headers: { authorization: 'Bearer abc', 'idempotency-key': 'k1' }, apiKey: 'x', ok: 1 }),
    ).toEqual({ payment_source: '[REDACTED]', headers: { authorization: '[REDACTED]', 'idempotency-key': '[REDACTED]' }, apiKey: '[REDACTED]', ok: 1 });
  });

  it('when secrets hide in free text, then they are masked', () => {
    const text = redactText('call failed: Bearer sk_test_abc123 with tok_chargeDeclined at amqp://guest:guest@host');
    expect(text).not.toMatch(/sk_test_abc123|tok_chargeDeclined|guest:guest/);
  });

  it('when a JWT appears without its Bearer prefix, then it is masked', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXNfMSJ9.c2lnbmF0dXJl';
    expect(redactText(`token was ${jwt}, refused`)).toBe('token was [REDACTED_JWT], refused');
  });

  it('when an error or a cycle is logged, then redaction does not throw', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: '[Truncated]' });
    expect(redact(new Error('tok_visa refused'))).toMatchObject({ message: 'tok_[REDACTED] refused' });
  });
});
