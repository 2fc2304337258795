import type { Static, TObject } from '@sinclair/typebox';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import { providerError, type ProviderResponse } from '../../domain/provider-response.js';

export type BodyCheck<T> = { ok: true; value: T } | { ok: false; response: ProviderResponse };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A check of a JSON body against its schema that answers the Stripe way: a missing required field
 * is `parameter_missing`, any other problem `parameter_invalid`, both naming the `param`.
 */
export function bodyChecker<S extends TObject>(schema: S): (body: unknown) => BodyCheck<Static<S>> {
  const check = compileValidator(schema);
  const required: readonly string[] = schema.required ?? [];
  return (body) => {
    if (!isPlainObject(body)) {
      return invalid('parameter_invalid', 'The body must be a JSON object sent as Content-Type: application/json.');
    }
    const missing = required.find((name) => body[name] === undefined);
    if (missing !== undefined) return invalid('parameter_missing', `Missing required param: ${missing}.`, missing);
    const result = check(body);
    if (result.ok) return result;
    const issue = result.issues[0];
    const unknownField = /^unknown field '(.+)'$/.exec(issue?.message ?? '')?.[1];
    const param = unknownField ?? issue?.path.split('/').filter(Boolean)[0];
    const message = unknownField ? `Received unknown parameter: ${unknownField}.` : `Invalid ${param ?? 'request'}: ${issue?.message ?? 'invalid'}.`;
    return invalid('parameter_invalid', message, param);
  };
}

function invalid(code: 'parameter_missing' | 'parameter_invalid', message: string, param?: string): { ok: false; response: ProviderResponse } {
  return { ok: false, response: providerError(400, 'invalid_request_error', code, message, param ? { param } : {}) };
}
