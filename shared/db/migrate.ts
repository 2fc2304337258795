import { createHash } from 'node:crypto';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../logging/logger.js';
import { repoPath } from '../startup/repo-path.js';
import { assertSchemaName } from './pool.js';

export interface MigrateOptions {
  connectionString: string;
  schema: string;
  /** Folders of `.sql` migrations, applied in file-name order across them. */
  dir: string | string[];
  logger: Logger;
  /** @defaultValue 20 */
  maxAttempts?: number;
}

/**
 * Applies a service's SQL migrations to its own schema (created if missing) with node-pg-migrate.
 * The advisory lock is per schema, so services migrate side by side; a second instance of the same
 * service that finds the lock taken waits and tries again (bounded), then finds nothing to do.
 */
export async function migrate(options: MigrateOptions): Promise<void> {
  const schema = assertSchemaName(options.schema);
  const lockValue = Number.parseInt(createHash('sha1').update(schema).digest('hex').slice(0, 12), 16);
  const maxAttempts = options.maxAttempts ?? 20;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const applied = await runner({
        databaseUrl: options.connectionString,
        // Several folders need glob mode; files then sort by name across the folders.
        ...(Array.isArray(options.dir)
          ? { dir: options.dir.map((d) => `${d}/*.sql`), useGlob: true }
          : { dir: options.dir }),
        direction: 'up',
        schema,
        createSchema: true,
        migrationsTable: 'schema_migrations',
        lockValue,
        checkOrder: true,
        log: () => undefined,
        logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      });
      if (applied.length > 0) {
        options.logger.info('migrations applied', { schema, migrations: applied.map((m) => m.name) });
      }
      return;
    } catch (error) {
      const locked = error instanceof Error && /already running/i.test(error.message);
      if (!locked || attempt >= maxAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** The migration folders of a service: the common tables (outbox, inbox) and its own. */
export function migrationDirs(service: string): string[] {
  const root = repoPath('infra/migrations');
  return [path.join(root, 'common'), path.join(root, service)];
}
