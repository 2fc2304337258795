import { expect } from 'vitest';
import type { TestStack } from './test-stack.js';

/** Secrets that have a recognisable shape: card tokens, the provider key, bearer tokens, JWTs. */
const SECRET_SHAPES = /tok_(visa|chargeDeclined|insufficientFunds|mastercard)|sk_test_local_provider_key|Bearer [A-Za-z0-9]|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./;

/** Shorter values could match log text by chance and prove nothing. */
const MIN_SCANNED_LENGTH = 8;

export interface SecretScanOptions {
  /**
   * Exact values the test sent that must not appear either, whatever their shape: the
   * Idempotency-Key values and bearer tokens it used (each at least 8 characters).
   */
  values?: Iterable<string>;
}

/**
 * Invariant 8: no card token, provider API key or bearer token (JWT) in any captured log line,
 * nor any of the `values` the test names.
 */
export function expectNoSecretsInLogs(stack: TestStack, options: SecretScanOptions = {}): void {
  const lines = stack.logs.lines;
  expect(lines.length).toBeGreaterThan(0);
  const values = [...new Set(options.values ?? [])];
  const short = values.filter((value) => value.length < MIN_SCANNED_LENGTH);
  if (short.length > 0) throw new Error(`${short.length} scanned value(s) shorter than ${MIN_SCANNED_LENGTH} characters`);
  const leaks = lines.filter((line) => SECRET_SHAPES.test(line) || values.some((value) => line.includes(value)));
  expect(leaks).toEqual([]);
}
