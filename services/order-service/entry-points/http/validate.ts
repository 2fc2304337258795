import type { TSchema, Static } from '@sinclair/typebox';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import { ProblemError } from './problem.js';

/** Compiles `schema` once; the returned function checks a value or throws a 400 problem. */
export function validatorFor<S extends TSchema>(schema: S, what: string): (value: unknown) => Static<S> {
  const check = compileValidator(schema);
  return (value) => {
    const result = check(value);
    if (result.ok) return result.value;
    throw new ProblemError('validation_error', `invalid ${what}`, { errors: result.issues });
  };
}
