import type { Static, TSchema } from '@sinclair/typebox';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv and ajv-formats are CommonJS with a default export; under NodeNext the class sits on .default.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** One Ajv instance for the process: schemas compile once and are cached by identity. */
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false }), [
  'date-time',
  'uuid',
  'email',
  'uri',
]);

export interface ValidationIssue {
  /** JSON pointer of the offending value, e.g. `/items/0/quantity`. */
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** A compiled check for one schema; the TypeScript type comes from the same schema. */
export interface Validator<T> {
  (value: unknown): ValidationResult<T>;
  readonly schema: TSchema;
}

/** Compiles `schema` once and returns a validator narrowing to its static type. */
export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  const check = ajv.compile(schema);
  const validate = (value: unknown): ValidationResult<Static<S>> => {
    if (check(value)) return { ok: true, value: value as Static<S> };
    const issues = (check.errors ?? []).map((error) => ({
      path: error.instancePath || '/',
      message:
        error.keyword === 'additionalProperties'
          ? `unknown field '${String((error.params as { additionalProperty?: string }).additionalProperty)}'`
          : (error.message ?? 'invalid'),
    }));
    return { ok: false, issues };
  };
  return Object.assign(validate, { schema });
}
