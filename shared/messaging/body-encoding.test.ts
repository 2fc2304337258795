import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bodyEncodingOf, decodeBody, encodeBody, MAX_DECODED_BODY_BYTES } from './body-encoding.js';

const json = (bytes: number) => Buffer.from(JSON.stringify({ padding: 'x'.repeat(bytes - 14) }));

describe('encodeBody', () => {
  it('when the body is at or below the threshold, then it goes as it is, utf-8', () => {
    const body = json(200);
    expect(body.length).toBe(200);
    expect(encodeBody(body, 200)).toEqual({ content: body, contentEncoding: 'utf-8', encoding: 'identity' });
  });

  it('when the threshold is 0, then even a large body is not compressed', () => {
    const body = json(100_000);
    const encoded = encodeBody(body, 0);
    expect(encoded.content).toBe(body);
    expect(encoded.contentEncoding).toBe('utf-8');
  });

  it('when the body is larger than the threshold, then it is gzip\'d, smaller, with content_encoding gzip', () => {
    const body = json(201);
    const encoded = encodeBody(body, 200);
    expect(encoded.contentEncoding).toBe('gzip');
    expect(encoded.encoding).toBe('gzip');
    expect([...encoded.content.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(encoded.content.length).toBeLessThan(body.length);
    expect(gunzipSync(encoded.content)).toEqual(body);
  });
});

describe('decodeBody', () => {
  it('when a gzip\'d body comes back with its content_encoding, then it decodes to the same JSON', () => {
    const body = json(5_000);
    const { content, contentEncoding } = encodeBody(body, 1_000);
    expect(decodeBody(content, contentEncoding)).toEqual({ ok: true, json: body, encoding: 'gzip' });
  });

  it('when content_encoding is utf-8, identity, absent or GZIP in capitals, then each is read', () => {
    const body = json(50);
    for (const encoding of ['utf-8', 'UTF-8', 'utf8', 'identity', '', undefined, null]) {
      expect(decodeBody(body, encoding), String(encoding)).toEqual({ ok: true, json: body, encoding: 'identity' });
    }
    expect(decodeBody(gzipSync(body), 'GZIP')).toEqual({ ok: true, json: body, encoding: 'gzip' });
  });

  it('when the body says gzip but is not gzip, or is cut short, then it fails saying it could not be gunzipped', () => {
    const body = json(500);
    expect(decodeBody(body, 'gzip')).toEqual({
      ok: false,
      encoding: 'gzip',
      detail: 'content_encoding is gzip but the body could not be gunzipped: incorrect header check',
    });
    const cut = gzipSync(body).subarray(0, 20);
    expect(decodeBody(cut, 'gzip')).toEqual({
      ok: false,
      encoding: 'gzip',
      detail: 'content_encoding is gzip but the body could not be gunzipped: unexpected end of file',
    });
  });

  it('when a gzip body inflates past the cap, then it fails instead of taking the memory', () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECODED_BODY_BYTES + 1, 0x20));
    expect(bomb.length).toBeLessThan(10_000);
    expect(decodeBody(bomb, 'gzip')).toEqual({
      ok: false,
      encoding: 'gzip',
      detail: `content_encoding is gzip but the body could not be gunzipped: it inflates to more than ${MAX_DECODED_BODY_BYTES} bytes`,
    });
  });

  it('when content_encoding is one no consumer reads, then it fails naming it', () => {
    expect(decodeBody(json(50), 'br')).toEqual({ ok: false, encoding: 'other', detail: 'unsupported content_encoding "br" (utf-8 or gzip expected)' });
    expect(bodyEncodingOf(42)).toBe('other');
  });
});
