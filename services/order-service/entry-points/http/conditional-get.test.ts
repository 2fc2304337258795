import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etagOf, honourIfNoneMatch, sendJson } from './conditional-get.js';

let server: http.Server;
let url: string;
const BODY = JSON.stringify({ data: [1, 2, 3] });

beforeAll(async () => {
  const app = express();
  honourIfNoneMatch(app);
  app.get('/ours', (_req, res) => sendJson(res, BODY));
  // express's own ETag (weak, from res.json), as the admin routes answer.
  app.get('/express', (_req, res) => res.json({ data: [1, 2, 3] }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

/** A GET with exactly these headers (node:http adds none of its own, unlike fetch). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; etag: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}${path}`, { headers }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, etag: response.headers.etag, body }));
      })
      .on('error', reject);
  });
}

describe('conditional GETs', () => {
  it.each(['/ours', '/express'])('when %s is asked with its current ETag, then 304 with no body, whether or not the request says no-cache', async (path) => {
    const first = await get(path);
    expect(first.status).toBe(200);
    expect(first.etag).toBeTruthy();
    for (const extra of [{}, { 'cache-control': 'no-cache', pragma: 'no-cache' }] as Record<string, string>[]) {
      const again = await get(path, { 'if-none-match': first.etag!, ...extra });
      expect(again.status, JSON.stringify(extra)).toBe(304);
      expect(again.body).toBe('');
    }
    // In a list, or weak for strong: still a match (weak comparison); `*` matches anything.
    expect((await get(path, { 'if-none-match': `"other", W/${first.etag!.replace(/^W\//, '')}` })).status).toBe(304);
    expect((await get(path, { 'if-none-match': '*' })).status).toBe(304);
  });

  it('when the ETag given is not the current one, then 200 with the body and its ETag', async () => {
    const answer = await get('/ours', { 'if-none-match': '"stale"', 'cache-control': 'no-cache' });
    expect(answer).toEqual({ status: 200, etag: etagOf(BODY), body: BODY });
  });
});
