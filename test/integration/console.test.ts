import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleConsole } from '../../infra/scripts/console-bundle.js';
import { launchChromium } from '../support/browser.js';
import { openConsole, photograph, SHOTS, signIn, type Width } from '../support/console-browser.js';
import { ADDRESS, OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { adminToken, customerToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The operations console in a real browser (Debian's Chromium through playwright-core) against a
 * stack of real services: sign-in, orders, one order's saga, dead letters. Each page is also
 * photographed at 1280 and 390 px into docs/console/ (the README shows them).
 */
let stack: TestStack;
let browser: Browser;
let customer: OrderApi;
const CUSTOMER = `cus_console_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await bundleConsole();
  // Reports every half second, and a charge circuit that opens after two failures and tries again
  // after a second: the Services page follows both within the test's time.
  stack = await TestStack.start({
    STATUS_INTERVAL_MS: '500',
    PAYMENT_PROVIDER_TIMEOUT_MS: '500',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_RESET_TIMEOUT_MS: '1000',
  });
  customer = new OrderApi(stack, CUSTOMER);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  if (!EXTERNAL_STACK) await stack?.setProviderFaults({}).catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

/** A page of the console at a width, signed in with `token` (or not signed in). */
async function open(width: Width, hash = '', token?: string): Promise<Page> {
  const page = await openConsole(browser, stack.orderApi, width, hash);
  return token ? signIn(page, token) : page;
}

describe.skipIf(EXTERNAL_STACK)('the operations console', () => {
  it('when an admin signs in, then the orders page shows; a customer token is refused with a clear message; signing out forgets the token', async () => {
    await photograph('sign-in', (width) => open(width));
    const page = await open('desktop');
    await page.getByLabel('Admin token').fill(await customerToken(CUSTOMER));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not an admin’s: the console is for operators only/);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);

    await page.getByLabel('Admin token').fill(await adminToken());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Search orders').waitFor();
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toEqual([await adminToken()]);
    expect((await page.context().cookies()).length, 'no cookie').toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    await page.close();
  });

  it('when an order is searched by its id or its customer, then it is listed, and its page shows the completed saga in order', async () => {
    const placed = await customer.place();
    await customer.settled(placed.id);
    const page = await open('desktop', '', await adminToken());

    await page.getByLabel('Search orders').fill(placed.id);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: placed.id }).waitFor();
    await page.getByLabel('Search orders').fill(CUSTOMER);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: placed.id }).click();

    const timeline = page.getByRole('list', { name: 'Saga timeline' });
    await timeline.getByText('shipping.scheduled').waitFor();
    const steps = await timeline.locator('.what').allTextContents();
    expect(steps).toEqual(['order.created', 'inventory.reserved', 'payment.succeeded', 'shipping.scheduled']);
    await expect(page.locator('.badge').first().textContent()).resolves.toBe('completed');
    await expect(page.locator('.facts dd', { hasText: 'tracking' }).textContent()).resolves.toMatch(/tracking \S+/);
    await page.close();

    await photograph('orders', (width) => open(width, `#/orders?q=${CUSTOMER}`, undefined).then(signIn).then(async (p) => {
      await p.getByRole('link', { name: placed.id }).waitFor();
      return p;
    }));
    await photograph('order-completed', (width) => open(width, `#/orders/${placed.id}`).then(signIn).then(async (p) => {
      await p.getByRole('list', { name: 'Saga timeline' }).getByText('shipping.scheduled').waitFor();
      return p;
    }));
  });

  it('when an order fails to ship, then its page shows the refund and the stock release after the failure, in order, while it updates by itself', async () => {
    const failing = await customer.place(orderBody({ shipping_address: { ...ADDRESS, country: 'AQ' } }));
    const page = await open('desktop', `#/orders/${failing.id}`).then(signIn);
    // The page was opened while the saga ran: it follows it to the end without a reload.
    const timeline = page.getByRole('list', { name: 'Saga timeline' });
    await timeline.getByText('inventory.released').waitFor({ timeout: 30_000 });
    const steps = await timeline.locator('.entry:not(.entry-ahead) .what').allTextContents();
    const at = (type: string) => steps.indexOf(type);
    expect(at('shipping.failed')).toBeGreaterThan(at('payment.succeeded'));
    expect(at('payment.refunded')).toBeGreaterThan(at('shipping.failed'));
    expect(at('inventory.released')).toBeGreaterThan(at('shipping.failed'));
    await expect(page.locator('.badge').first().textContent()).resolves.toMatch(/^cancelled/);
    await expect(page.locator('.facts dd', { hasText: 'refunded' }).textContent()).resolves.toMatch(/refunded/);
    await page.close();
    await photograph('order-refunded', (width) => open(width, `#/orders/${failing.id}`).then(signIn).then(async (p) => {
      await p.getByRole('list', { name: 'Saga timeline' }).getByText('inventory.released').waitFor();
      return p;
    }));
  });

  it('when a dead letter arrives, then it shows in its group; replaying the group sends it back and the group goes', async () => {
    const reason = 'retries_exhausted';
    const messageId = randomUUID();
    await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue('shipping-service'), { not: 'an event this service knows' }, {
      messageId,
      type: 'console.test',
      headers: { 'x-dead-letter-reason': reason, 'x-dead-letter-error': 'database was down', 'x-dead-lettered-at': new Date().toISOString() },
    });
    const page = await open('desktop', '#/dead-letters', await adminToken());
    const group = page.locator('tr', { hasText: 'shipping-service' }).filter({ hasText: reason });
    await group.waitFor();
    await expect(group.locator('td.number').textContent()).resolves.toBe('1');
    await photograph('dead-letters', (width) => open(width, '#/dead-letters').then(signIn).then(async (p) => {
      await p.locator('tr', { hasText: reason }).waitFor();
      return p;
    }));

    await group.getByRole('button', { name: /^Replay/ }).click();
    await page.getByRole('button', { name: 'Yes, replay them' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed 1' }).waitFor();
    await group.waitFor({ state: 'detached' });
    const replays = await waitFor(
      async () => {
        const { rows } = await stack.db.query(
          `SELECT r.requested_by FROM ${stack.table('dead-letters', 'dead_letter_replays')} r JOIN ${stack.table('dead-letters', 'dead_letters')} d ON d.id = r.dead_letter_id WHERE d.message_id = $1`,
          [messageId],
        );
        return rows.length > 0 ? rows : undefined;
      },
      { what: 'the replay to be recorded' },
    );
    expect(replays).toEqual([{ requested_by: 'operator' }]);
    await page.close();
  });

  it('when the provider fails every charge, then the services page shows the charge circuit open and the payment lane paused, and closed once the provider is back, without a reload', async () => {
    const page = await open('desktop', '#/services', await adminToken());
    const card = (service: string) => page.getByRole('article', { name: new RegExp(`^${service}`) });
    for (const service of ['order-service', 'inventory-service', 'payment-service', 'shipping-service']) {
      await card(service).getByText('1 instance up').waitFor();
    }
    const payment = card('payment-service');
    const charge = payment.getByRole('list', { name: 'payment-service circuit breakers' }).locator('li', { hasText: 'payment-provider-charge' });
    await expect(charge.locator('.badge').textContent()).resolves.toBe('closed');
    // Orders so the charts have something to draw.
    for (const order of await Promise.all([customer.place(), customer.place()])) await customer.settled(order.id);
    await payment.locator('canvas').first().waitFor();
    await photograph('services', (width) => open(width, '#/services').then(signIn).then(async (p) => {
      await p.getByRole('article', { name: /^shipping-service/ }).getByText('1 instance up').waitFor();
      await p.locator('canvas').first().waitFor();
      return p;
    }));

    await stack.setProviderFaults({ error_rate: 1, match: 'payments' });
    const waiting = await Promise.all([customer.place(), customer.place()]);
    await charge.getByText('open', { exact: true }).waitFor({ timeout: 20_000 });
    await payment.getByRole('status').filter({ hasText: 'The step lane is paused on 1 of 1 instance' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'services-circuit-open-desktop.png'), fullPage: true });

    await stack.setProviderFaults({});
    for (const order of waiting) expect((await customer.settled(order.id, 30_000)).status).toBe('completed');
    await charge.getByText('closed', { exact: true }).waitFor({ timeout: 10_000 });
    await payment.getByRole('status').filter({ hasText: 'paused' }).waitFor({ state: 'detached' });
    await page.close();
  });

  it('when an operator uses only the keyboard, then they sign in, skip to the content and reach every page, each control showing its focus', async () => {
    const page = await open('desktop');
    /** The focused element: its tag, its accessible text, and whether a focus outline is drawn. */
    const focused = () =>
      page.evaluate<{ tag: string; text: string; outlined: boolean }>(`(() => {
        const element = document.activeElement;
        const style = getComputedStyle(element);
        return {
          tag: element.tagName.toLowerCase(),
          text: (element.getAttribute('aria-label') ?? element.labels?.[0]?.textContent ?? element.textContent ?? '').trim(),
          outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        };
      })()`);
    const tabTo = async (text: string, key: 'Tab' | 'Shift+Tab' = 'Tab') => {
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press(key);
        const now = await focused();
        if (now.text === text) {
          expect(now.outlined, `${now.text} shows its focus`).toBe(true);
          return now;
        }
      }
      throw new Error(`Tab never reached ${text}`);
    };

    await tabTo('Admin token');
    await page.keyboard.insertText(await adminToken());
    await tabTo('Sign in');
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();

    // The first stop is the skip link; it takes the focus past the navigation.
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ tag: 'a', text: 'Skip to content' });
    await page.keyboard.press('Enter');
    expect(await focused()).toMatchObject({ tag: 'main' });

    // Back to the navigation, then along it: each link opens its page.
    for (const [link, key, heading] of [
      ['Dead letters', 'Shift+Tab', 'Dead letters'],
      ['Services', 'Tab', 'Services'],
      ['Jobs', 'Tab', /Jobs/],
      ['Orders', 'Shift+Tab', 'Orders'],
    ] as const) {
      await tabTo(link, key);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    }
    await tabTo('Search orders');
    await page.keyboard.insertText(CUSTOMER);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: /^[0-9a-f-]{36}$/ }).first().waitFor();
    await page.close();
  });
});
