import { createHash, randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderApi, orderBody } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/** Request timeouts (REQUEST_TIMEOUT_MS) and why a timed-out POST is safe to retry with its key. */
let stack: TestStack;
let api: OrderApi;

beforeAll(async () => {
  stack = await TestStack.start({ REQUEST_TIMEOUT_MS: '500' });
  api = new OrderApi(stack, `cus_slow_${randomUUID().slice(0, 8)}`);
});

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(EXTERNAL_STACK)('request timeout', () => {
  it('when placing an order takes longer than REQUEST_TIMEOUT_MS, then 503 request_timeout with Retry-After, and a retry with the same key gets the one order it placed', async () => {
    const orders = stack.table('order-service', 'orders');
    const key = `slow-${randomUUID()}`;
    // The orders table held locked: the request waits at its INSERT past the timeout.
    const lock = await stack.db.connect();
    let timedOut: Response;
    try {
      await lock.query('BEGIN');
      await lock.query(`LOCK TABLE ${orders} IN SHARE MODE`);
      // Bounded: without the timeout the request would wait for the lock this test holds.
      const bound = new AbortController();
      const tooLate = setTimeout(10_000, undefined, { signal: bound.signal }).then(() => {
        throw new Error('no answer within 10 s: the request timeout did not fire');
      });
      tooLate.catch(() => undefined); // raced below; its abort after the answer is not an error
      try {
        timedOut = await Promise.race([api.request('POST', '/orders', orderBody(), { 'idempotency-key': key }), tooLate]);
      } finally {
        bound.abort();
      }
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    expect(timedOut.headers.get('retry-after')).toMatch(/^[0-9]+$/);
    await expectProblem(timedOut, 503, 'request_timeout');

    // The work went on once the lock was gone; the retry is answered with its result (409 while it still runs).
    const retry = await waitFor(
      async () => {
        const response = await api.request('POST', '/orders', orderBody(), { 'idempotency-key': key });
        if (response.status === 202) return response;
        await response.body?.cancel();
        return undefined;
      },
      { what: 'the retry to be answered with the order' },
    );
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const { rows } = await stack.db.query(`SELECT id FROM ${orders} WHERE customer_id = $1 AND idempotency_key_hash = $2`, [
      api.customerId,
      createHash('sha256').update(key).digest('hex'),
    ]);
    expect(rows).toEqual([{ id: ((await retry.json()) as { id: string }).id }]);
  });
});
