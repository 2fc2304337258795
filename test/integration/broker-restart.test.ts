import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args, { timeout: 60_000 });

let stack: TestStack;
let api: OrderApi;

beforeAll(async () => {
  stack = await TestStack.start();
  api = new OrderApi(stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function brokerUp(): Promise<boolean> {
  try {
    await rabbitmqctl('-q', 'await_startup');
    return true;
  } catch {
    return false;
  }
}

// These tests act on the local broker itself, so they only run against the in-process stack.
describe.skipIf(EXTERNAL_STACK)('broker outages', () => {
  it('when the broker closes every connection, then the services reconnect and orders still complete', async () => {
    await rabbitmqctl('close_all_connections', 'test: connections closed on purpose');
    const placed = await api.place();
    expect((await api.settled(placed.id, 30_000)).status).toBe('completed');
  });

  it('when the broker application stops and starts again, then orders accepted meanwhile complete', async () => {
    await rabbitmqctl('stop_app');
    let placedDuringOutage: string;
    try {
      // The API keeps accepting orders: the order and its event are in Postgres (outbox).
      placedDuringOutage = (await api.place(orderBody({ items: [{ sku: 'BOOK-SAGAS', quantity: 1 }] }))).id;
    } finally {
      await rabbitmqctl('start_app');
      await waitFor(brokerUp, { timeoutMs: 60_000, intervalMs: 500, what: 'the broker to start' });
    }
    expect((await api.settled(placedDuringOutage, 45_000)).status).toBe('completed');
    const after = await api.place();
    expect((await api.settled(after.id, 30_000)).status).toBe('completed');
  }, 120_000);
});
