import { createHash } from 'node:crypto';
import type { Express, Request, Response } from 'express';

/** A strong ETag for a JSON body: its SHA-1, so that equal bodies, on any instance, share it. */
export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** The entity tags of `If-None-Match` (weak or strong), `*`, or undefined when absent. */
export function ifNoneMatch(req: Request): string[] | undefined {
  const header = req.get('if-none-match');
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .filter(Boolean);
}

/** Weak comparison (RFC 9110 §13.1.2), as a GET's `If-None-Match` is evaluated. */
export function matchesAny(tags: string[] | undefined, etag: string): boolean {
  return tags !== undefined && (tags.includes('*') || tags.includes(etag.replace(/^W\//, '')));
}

/**
 * Makes `req.fresh` (which `res.send` asks before answering 304) evaluate `If-None-Match` for every
 * route of `app`, whatever the request's `Cache-Control`. express's own, from the `fresh` package,
 * ignores it when the request says `no-cache`, which browsers' fetch says whenever it sets
 * `If-None-Match` itself; but an origin server answers the condition regardless (RFC 9110
 * §13.2.1): `no-cache` is addressed to caches. Without `If-None-Match`, express's own answer stands.
 */
export function honourIfNoneMatch(app: Express): void {
  const original = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.request), 'fresh');
  Object.defineProperty(app.request, 'fresh', {
    configurable: true,
    enumerable: true,
    get(this: Request): boolean {
      const tags = ifNoneMatch(this);
      if (tags === undefined) return Boolean(original?.get?.call(this));
      const res = this.res!;
      const ok = (res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 304;
      const etag = res.get('ETag');
      return (this.method === 'GET' || this.method === 'HEAD') && ok && etag !== undefined && matchesAny(tags, etag);
    },
  });
}

/**
 * Answers a GET with a JSON body and its ETag (given when known, e.g. kept with a cached body, so
 * that it is not hashed again), or `304 Not Modified` when the client already has it (`req.fresh`,
 * see {@link honourIfNoneMatch}). `private, no-cache`: what a customer reads is theirs; a cache may
 * keep it and must ask again.
 */
export function sendJson(res: Response, body: string, etag = etagOf(body)): void {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, no-cache');
  res.type('application/json; charset=utf-8').send(body);
}
