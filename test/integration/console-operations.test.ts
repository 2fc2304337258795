import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleConsole } from '../../infra/scripts/console-bundle.js';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { JobRunner } from '../../shared/jobs/job-runner.js';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import { launchChromium } from '../support/browser.js';
import { openConsole, photograph, signIn, type Width } from '../support/console-browser.js';
import { OrderApi } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { authHeader } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The console's operations pages in a real browser against a stack of real services: one dead
 * letter and a group's letters picked by hand; failed jobs retried and payment discrepancies
 * found by a reconciliation run from the page. Each page is photographed at 1280 and 390 px into
 * docs/console/ (the README shows them).
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const GRACE_MS = 1_000;
const logger = createLogger({ service: 'console-operations-test', level: 'error' });

let stack: TestStack;
let browser: Browser;
let pool: Pool;
let runner: JobRunner | undefined;
let store: JobStore;

beforeAll(async () => {
  await bundleConsole();
  // Reconciliation only when asked (the page's button), with a short grace period for sagas in flight.
  stack = await TestStack.start({ RECONCILE_INTERVAL: 'off', RECONCILE_GRACE: `${GRACE_MS}ms`, JOBS_POLL_MS: '500' });
  pool = createPool({ connectionString: DATABASE_URL, schema: 'public', max: 2, logger });
  store = await JobStore.open({ connectionString: DATABASE_URL, namespace: stack.namespace, logger });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  if (!EXTERNAL_STACK) await stack?.setProviderFaults({}).catch(() => undefined);
  await browser?.close();
  await runner?.stop();
  await store?.close();
  await pool?.end();
  await stack?.stop();
});

/** A signed-in page of the console at a width. */
const open = (width: Width, hash: string): Promise<Page> => openConsole(browser, stack.orderApi, width, hash).then((page) => signIn(page));

/** Who replayed each of these messages' letters, per message id. */
async function replayedBy(messageIds: string[]): Promise<Record<string, string[]>> {
  const { rows } = await stack.db.query<{ message_id: string; requested_by: string }>(
    `SELECT d.message_id, r.requested_by FROM ${stack.table('dead-letters', 'dead_letter_replays')} r
     JOIN ${stack.table('dead-letters', 'dead_letters')} d ON d.id = r.dead_letter_id WHERE d.message_id = ANY($1) ORDER BY d.message_id`,
    [messageIds],
  );
  const by: Record<string, string[]> = {};
  for (const row of rows) (by[row.message_id] ??= []).push(row.requested_by);
  return by;
}

describe.skipIf(EXTERNAL_STACK)('the operations console: dead letters one by one, jobs and reconciliation, cancelling an order', () => {
  it('when an operator picks two letters of a group, then those two are replayed under their name; the third opens with its secrets masked and is purged from its page', async () => {
    const type = `console.ops.${randomUUID().slice(0, 8)}`;
    const group = `shipping-service · ${type} · retries_exhausted`;
    const messageIds = [randomUUID(), randomUUID(), randomUUID()];
    for (const [n, messageId] of messageIds.entries()) {
      const body = { id: messageId, type, data: { order_id: randomUUID(), payment_source: 'tok_visa_4242', note: `letter ${n}`, authorization: 'Bearer abc.def' } };
      await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue('shipping-service'), body, {
        messageId,
        type,
        headers: { 'x-dead-letter-reason': 'retries_exhausted', 'x-dead-letter-error': `carrier refused letter ${n}`, 'x-dead-lettered-at': new Date(Date.now() + n).toISOString() },
      });
    }
    const page = await open('desktop', '#/dead-letters');
    const row = page.locator(`tr[data-group="${group}"]`);
    await row.locator('td.number', { hasText: '3' }).waitFor();

    await row.getByRole('button', { name: `Letters of ${group}` }).click();
    const picker = page.getByRole('group', { name: `Letters of ${group}` });
    const boxes = picker.getByRole('checkbox', { name: /^Select letter / });
    await expect.poll(() => boxes.count(), { timeout: 10_000 }).toBe(3);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await picker.getByRole('button', { name: 'Replay selected (2)' }).click();
    await page.getByRole('alertdialog').getByText(`Replay the 2 letters selected in ${group}?`).waitFor();
    await page.getByRole('button', { name: 'Yes, replay them' }).click();
    await page.getByRole('status').filter({ hasText: `Replayed 2 from ${group}.` }).waitFor();
    // The group now counts the one left, without a reload.
    await row.locator('td.number', { hasText: /^1$/ }).waitFor();
    expect(await replayedBy(messageIds)).toEqual({ [messageIds[0]!]: ['operator'], [messageIds[1]!]: ['operator'] });

    // The one left, on its own page: what it is, why it died, and its body with the secrets masked.
    await expect.poll(() => boxes.count(), { timeout: 10_000 }).toBe(1);
    await picker.getByRole('link').click();
    const body = page.locator('pre.body');
    await body.waitFor();
    const shown = (await body.textContent()) ?? '';
    expect(shown).toContain('letter 2');
    expect(shown).not.toContain('tok_visa_4242');
    expect(shown).not.toContain('abc.def');
    expect(shown).toContain('[REDACTED]');
    await page.locator('.facts dd', { hasText: 'carrier refused letter 2' }).waitFor();
    const letterHash = new URL(page.url()).hash;
    // The API the page reads masks them too; a replay would still send the stored bytes.
    const letterId = decodeURIComponent(letterHash.split('/').pop()!);
    const api = (await (await fetch(`${stack.orderApi}/admin/dead-letters/${letterId}`, { headers: await authHeader('admin') })).json()) as { body: string };
    expect(api.body).not.toContain('tok_visa_4242');
    await photograph('dead-letter', (width) =>
      open(width, letterHash).then(async (p) => {
        await p.locator('pre.body').waitFor();
        return p;
      }),
    );

    await page.getByRole('button', { name: 'Purge', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, purge it' }).click();
    await page.getByRole('status').filter({ hasText: 'Purged' }).waitFor();
    await page.getByRole('link', { name: '← Dead letters' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
    await row.waitFor({ state: 'detached' });
    const { rows } = await stack.db.query(`SELECT purged_by FROM ${stack.table('dead-letters', 'dead_letters')} WHERE id = $1`, [letterId]);
    expect(rows).toEqual([{ purged_by: 'operator' }]);
    await page.close();
  });

  it('when a job fails for good, then the jobs page shows its error and retries it; a reconciliation run from the page lists an amount mismatch with its evidence', async () => {
    // A job of a service of our own that fails until told otherwise, in the stack's job schema.
    let healthy = false;
    runner = new JobRunner({ pool, namespace: stack.namespace, service: 'console-test', logger, pollIntervalMs: 500 }).define({
      name: 'flaky',
      policy: 'standard',
      retryLimit: 0,
      run: async () => {
        if (!healthy) throw new Error('the warehouse refused the export');
        return { exported: true };
      },
    });
    await runner.start();
    const jobId = (await runner.send('flaky', {}))!;

    // A completed order whose payment row then disagrees with the provider by one.
    const api = new OrderApi(stack, `cus_ops_${randomUUID().slice(0, 8)}`);
    const order = await api.settled((await api.place()).id);
    expect(order.status).toBe('completed');
    await stack.db.query(`UPDATE ${stack.table('payment-service', 'payments')} SET amount = amount + 1 WHERE order_id = $1`, [order.id]);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 200));

    const page = await open('desktop', '#/jobs');
    const failed = page.locator(`tr[data-job="${jobId}"]`);
    await failed.getByText('the warehouse refused the export').waitFor();

    await page.getByRole('button', { name: 'Run reconciliation now' }).click();
    await page.getByRole('status').filter({ hasText: 'Reconciliation started' }).waitFor();
    const mismatch = page.locator('tr[data-kind="amount_mismatch"]', { hasText: order.id });
    await mismatch.waitFor({ timeout: 60_000 });
    const evidence = (await mismatch.locator('pre.evidence').first().textContent()) ?? '';
    expect(evidence).toMatch(/local amount: \S+/);
    expect(evidence).toMatch(/provider amount: \S+/);
    await photograph('jobs', (width) =>
      open(width, '#/jobs').then(async (p) => {
        await p.locator(`tr[data-job="${jobId}"]`).waitFor();
        await p.locator('tr[data-kind="amount_mismatch"]').first().waitFor();
        return p;
      }),
    );

    healthy = true;
    await failed.getByRole('button', { name: /^Retry/ }).click();
    await page.getByRole('status').filter({ hasText: `Retrying console-test.flaky (${jobId}).` }).waitFor();
    await failed.waitFor({ state: 'detached' });
    const done = await waitFor(
      async () => {
        const job = await store.get(jobId);
        return job?.state === 'completed' ? job : undefined;
      },
      { timeoutMs: 20_000, what: 'the retried job to complete' },
    );
    expect(done.output).toEqual({ exported: true });
    await page.close();
  });

  it('when an operator cancels a running order from its page, then after a confirmation the saga undoes it and the page shows the release, without a reload', async () => {
    const api = new OrderApi(stack, `cus_ops_${randomUUID().slice(0, 8)}`);
    // A slow provider keeps the charge in progress while the operator opens the order.
    await stack.setProviderFaults({ latency_ms: 5_000, match: 'payments' });
    const placed = await api.place();
    const page = await open('desktop', `#/orders/${placed.id}`);
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByRole('alertdialog').getByText('Cancel this order?').waitFor();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancellation requested' }).waitFor();
    await stack.setProviderFaults({});

    const timeline = page.getByRole('list', { name: 'Saga timeline' });
    await timeline.getByText('inventory.released').waitFor({ timeout: 30_000 });
    const steps = await timeline.locator('.entry:not(.entry-ahead) .what').allTextContents();
    expect(steps.indexOf('order.cancel_requested')).toBeGreaterThan(steps.indexOf('order.created'));
    expect(steps.indexOf('inventory.released')).toBeGreaterThan(steps.indexOf('order.cancel_requested'));
    await expect(page.locator('.badge').first().textContent()).resolves.toMatch(/^cancelled/);
    await page.getByRole('button', { name: 'Cancel order' }).waitFor({ state: 'detached' });
    const order = await api.settled(placed.id);
    expect(order).toMatchObject({ status: 'cancelled', cancellation_reason: 'customer_request' });
    // Once nothing changes, the page's polls cost a 304 each, not the whole timeline again.
    await page.waitForResponse((response) => response.url().endsWith(`/admin/orders/${placed.id}/timeline`) && response.status() === 304, { timeout: 10_000 });
    await page.close();
  });
});
