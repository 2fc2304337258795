import { providerError, type ProviderResponse } from '../../domain/provider-response.js';

export interface ListQuery {
  /** 1 to 100. @defaultValue 10 */
  limit: number;
  startingAfter?: string;
  /** The filters the route allows that the query sets, by name. */
  filters: Partial<Record<string, string>>;
}

export type ListQueryCheck = { ok: true; value: ListQuery } | { ok: false; response: ProviderResponse };

const LIMIT = /^[1-9][0-9]{0,2}$/;

const invalid = (param: string, message: string): ListQueryCheck => ({
  ok: false,
  response: providerError(400, 'invalid_request_error', 'parameter_invalid', message, { param }),
});

/**
 * Reads `limit`, `starting_after` and the route's filters from a query string ("simple" parser:
 * a repeated parameter arrives as an array, and is refused rather than silently ignored).
 */
export function readListQuery(query: Record<string, unknown>, filterNames: readonly string[]): ListQueryCheck {
  const strings: Record<string, string> = {};
  for (const name of ['limit', 'starting_after', ...filterNames]) {
    const value = query[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
      return invalid(name, `Invalid ${name}: expected one non-empty string.`);
    }
    strings[name] = value;
  }
  let limit = 10;
  if (strings.limit !== undefined) {
    limit = LIMIT.test(strings.limit) ? Number(strings.limit) : 0;
    if (limit < 1 || limit > 100) return invalid('limit', 'Invalid limit: must be an integer from 1 to 100.');
  }
  const filters = Object.fromEntries(filterNames.filter((name) => strings[name] !== undefined).map((name) => [name, strings[name]]));
  return {
    ok: true,
    value: { limit, filters, ...(strings.starting_after === undefined ? {} : { startingAfter: strings.starting_after }) },
  };
}
