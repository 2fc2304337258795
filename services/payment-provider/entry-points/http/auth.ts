import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Requires `Authorization: Bearer <API key>`; compares in constant time. */
export function requireApiKey(apiKey: string): RequestHandler {
  const expected = digest(apiKey);
  return (req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (match?.[1] && timingSafeEqual(digest(match[1]), expected)) return next();
    res.status(401).json({ error: { type: 'authentication_error', code: 'invalid_api_key', message: 'Invalid API key provided.' } });
  };
}

/** Scopes Idempotency-Keys per API key without storing the key itself. */
export const apiKeyFingerprint = (apiKey: string): string => digest(apiKey).toString('hex').slice(0, 16);
