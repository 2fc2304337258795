import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

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
 * Answers a GET with a JSON body and its ETag, or `304 Not Modified` with no body when the client
 * already has it (`If-None-Match`). Evaluated here rather than by express's `req.fresh`, which
 * ignores `If-None-Match` when the request says `Cache-Control: no-cache` (browsers' fetch does
 * whenever it sets the header itself), although the server should answer it (RFC 9110 §13.2.1).
 * `private, no-cache`: what a customer reads is theirs; a cache may keep it and must ask again.
 */
export function sendJson(req: Request, res: Response, body: string, etag = etagOf(body)): void {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, no-cache');
  if (matchesAny(ifNoneMatch(req), etag)) {
    res.status(304).end();
    return;
  }
  res.type('application/json; charset=utf-8').send(body);
}
