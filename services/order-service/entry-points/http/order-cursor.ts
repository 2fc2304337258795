import { Type } from '@sinclair/typebox';
import { ProblemError } from './problem.js';
import { validatorFor } from './validate.js';

// Exactly what encodeCursor writes (toISOString of a Postgres timestamp, a plain UUID): the looser
// `date-time` and `uuid` formats also pass year 0000, offsets past year 9999 and `urn:uuid:` ids,
// which Postgres refuses (a 500 instead of a 400).
const checkCursor = validatorFor(
  Type.Object({
    created_at: Type.String({ format: 'date-time', pattern: '^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' }),
    id: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
  }),
  'cursor',
);

/** The keyset cursor of a page of orders: the last order's creation time and id, opaque to clients. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify({ created_at: createdAt.toISOString(), id })).toString('base64url');
}

/** Reads a cursor encodeCursor wrote; anything else is a 400 validation_error. */
export function decodeCursor(cursor: string): { created_at: string; id: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ProblemError('validation_error', 'invalid cursor');
  }
  return checkCursor(decoded);
}
