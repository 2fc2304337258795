import { type TObject, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../errors/app-error.js';
import { publicDefaultsOffLoopback, withSecretFiles } from './secrets.js';

export class ConfigError extends AppError {
  readonly code = 'invalid_config';
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}

/**
 * Reads a service's configuration from environment variables: secrets from `<NAME>_FILE` where
 * given, defaults applied, strings converted to the schema's types, and every invalid variable
 * named at once so that start fails fast. Empty strings count as unset. A secret still at its
 * README default is refused when HOST is not a loopback address (see secrets.ts).
 */
export function loadEnv<T extends TObject>(schema: T, env: NodeJS.ProcessEnv): Static<T> {
  const names = Object.keys(schema.properties);
  const files = withSecretFiles(env, names);
  const raw: Record<string, unknown> = {};
  for (const key of names) {
    const value = files.env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults);
  const problems = [...files.problems];
  if (!Value.Check(schema, converted)) {
    problems.push(...[...Value.Errors(schema, converted)].map((error) => `${error.path.replace(/^\//, '') || '(root)'}: ${error.message}`));
  } else {
    const defaults = Object.fromEntries(names.map((name) => [name, (schema.properties[name] as { default?: unknown }).default]));
    problems.push(...publicDefaultsOffLoopback(converted as Record<string, unknown>, defaults));
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { context: { problems } });
  return converted as Static<T>;
}
