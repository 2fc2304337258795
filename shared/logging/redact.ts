/** Field names whose values never reach a log line, whatever their content. */
const SECRET_KEY = /^(authorization|proxy-authorization|api[_-]?key|x-api-key|password|secret|token|access[_-]?token|card[_-]?token|payment[_-]?source|source|idempotency[_-]?key|cookie|set-cookie)$/i;

/** Secrets that can hide inside free text (error messages, URLs, bodies). */
const SECRET_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/Bearer\s+[A-Za-z0-9._~+/=-]+/g, 'Bearer [REDACTED]'],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '[REDACTED_JWT]'],
  [/\btok_[A-Za-z0-9_]+/g, 'tok_[REDACTED]'],
  [/\b(sk|pk|rk)_(test|live)_[A-Za-z0-9_]+/g, '$1_$2_[REDACTED]'],
  [/(amqps?|postgres(?:ql)?|redis):\/\/([^:@/\s]+):([^@/\s]+)@/g, '$1://$2:[REDACTED]@'],
];

export const REDACTED = '[REDACTED]';

/** Removes secrets from a string. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Returns a copy of `value` with secret fields replaced and secret-looking text masked.
 * Depth-limited and cycle-safe so that logging an odd object never throws.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[Truncated]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      ...('code' in value && value.code !== undefined ? { code: value.code } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redact(item, depth + 1, seen);
  }
  return out;
}
