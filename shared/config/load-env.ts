import { type TObject, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../errors/app-error.js';

export class ConfigError extends AppError {
  readonly code = 'invalid_config';
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}

/**
 * Reads a service's configuration from environment variables: defaults applied, strings converted
 * to the schema's types, and every invalid variable named at once so that start fails fast.
 * Empty strings count as unset.
 */
export function loadEnv<T extends TObject>(schema: T, env: NodeJS.ProcessEnv): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults);
  if (!Value.Check(schema, converted)) {
    const problems = [...Value.Errors(schema, converted)].map(
      (error) => `${error.path.replace(/^\//, '') || '(root)'}: ${error.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { context: { problems } });
  }
  return converted as Static<T>;
}
