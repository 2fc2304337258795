import { expect } from 'vitest';
import type { TestStack } from './test-stack.js';

/** Invariant 8: no card token, provider API key or bearer token in any captured log line. */
export function expectNoSecretsInLogs(stack: TestStack): void {
  const lines = stack.logs.lines;
  expect(lines.length).toBeGreaterThan(0);
  const leaks = lines.filter((line) =>
    /tok_(visa|chargeDeclined|insufficientFunds|mastercard)|sk_test_local_provider_key|Bearer [A-Za-z0-9]/.test(line),
  );
  expect(leaks).toEqual([]);
}
