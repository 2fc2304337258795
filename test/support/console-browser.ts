import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { adminToken } from './tokens.js';

/** Where the console's browser tests put their screenshots (the README shows them). */
export const SHOTS = path.resolve(import.meta.dirname, '..', '..', 'docs', 'console');
/** The widths the console must be usable at. */
export const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;
export type Width = keyof typeof WIDTHS;

/** A new tab on the console at `hash`, at a width, not signed in (session storage is per tab). */
export async function openConsole(browser: Browser, orderApi: string, width: Width, hash = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: WIDTHS[width] });
  page.setDefaultTimeout(15_000);
  await page.goto(`${orderApi}/console${hash}`);
  return page;
}

/** Signs the page in with `token` (an admin's by default) and waits for the navigation. */
export async function signIn(page: Page, token?: string): Promise<Page> {
  await page.getByLabel('Admin token').fill(token ?? (await adminToken()));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
  return page;
}

/** Both widths' screenshots of what `show` opens, each checked for sideways scrolling first. */
export async function photograph(name: string, show: (width: Width) => Promise<Page>): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const width of Object.keys(WIDTHS) as Width[]) {
    const page = await show(width);
    // Usable at that width: the page never scrolls sideways (wide tables scroll inside their box).
    expect(await page.evaluate<number>('document.documentElement.scrollWidth'), `${name} at ${width}`).toBeLessThanOrEqual(WIDTHS[width].width);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
    await page.close();
  }
}
