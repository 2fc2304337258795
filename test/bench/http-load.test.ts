import { describe, expect, it } from 'vitest';
import { closedLoop, openLoop, type SendOutcome } from './http-load.js';
import { isOverloaded } from './order-load.js';

/** A sender that answers the outcomes in turn, after `delayMs`. */
function cycling(outcomes: SendOutcome[], delayMs = 0) {
  let n = 0;
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return outcomes[n++ % outcomes.length]!;
  };
}

describe('the load tallies', () => {
  it('when requests are rejected, then they are counted as rejected with their own latency, not as failed', async () => {
    const result = await openLoop(400, 100, cycling([true, 'rejected', false, 'rejected']));
    expect(result.ok + result.rejected + result.failed).toBe(40);
    expect([result.ok, result.rejected, result.failed]).toEqual([10, 20, 10]);
    expect(result.rejectedLatencyMs.n).toBe(20);
    expect(result.failedLatencyMs.n).toBe(10);
    expect(result.latencyMs.n).toBe(40);
  });

  it('when a closed-loop worker is rejected, then it pauses before its next request instead of spinning', async () => {
    const result = await closedLoop(1, 200, cycling(['rejected']));
    // Each rejection is followed by a 50 ms pause: about 4 in 200 ms, not thousands.
    expect(result.rejected).toBeGreaterThan(0);
    expect(result.rejected).toBeLessThanOrEqual(5);
    expect(result.failed).toBe(0);
  });
});

describe('a rejection', () => {
  it('when the answer is 503 with the overloaded problem type, then it is a rejection; any other 503 is not', () => {
    expect(isOverloaded({ status: 503, body: '{"type":"urn:order-platform:problem:overloaded","status":503}' })).toBe(true);
    expect(isOverloaded({ status: 503, body: '{"type":"urn:order-platform:problem:service_unavailable"}' })).toBe(false);
    expect(isOverloaded({ status: 503, body: 'not json' })).toBe(false);
    expect(isOverloaded({ status: 429, body: '{"type":"urn:order-platform:problem:overloaded"}' })).toBe(false);
    expect(isOverloaded({ status: 'error', body: '' })).toBe(false);
  });
});
