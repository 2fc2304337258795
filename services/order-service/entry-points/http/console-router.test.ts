import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRouter } from './console-router.js';

let dir: string;
let server: ReturnType<express.Express['listen']>;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'console-'));
  const app = express();
  app.use(consoleRouter(dir));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('consoleRouter', () => {
  it('when the console is not built, then /console and its assets answer 503 with a problem naming the command that builds it', async () => {
    for (const where of ['/console', '/console/assets/console.js']) {
      const response = await fetch(`${url}${where}`);
      expect(response.status, where).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { detail: string }).detail).toBe('the console is not built: run npm run build:console');
    }
  });

  it('when it is built, then the page is served revalidated every time, its assets with an ETag, and a missing asset is 404 (a conditional GET is answered 304)', async () => {
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Order console</title>');
    writeFileSync(path.join(dir, 'assets', 'console.js'), 'console.log(1)');

    const page = await fetch(`${url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('Order console');

    const asset = await fetch(`${url}/console/assets/console.js`);
    expect(asset.status).toBe(200);
    const etag = asset.headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await fetch(`${url}/console/assets/console.js`, { headers: { 'if-none-match': etag!, 'cache-control': 'max-age=0' } })).status).toBe(304);
    expect((await fetch(`${url}/console/assets/missing.js`)).status).toBe(404);
  });
});
