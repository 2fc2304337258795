import { migrate, migrationDirs } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import type { Logger } from '../logging/logger.js';
import { DeadLetterStore } from './dead-letter-store.js';

/** Migrates the dead-letter archive's schema (`<namespace>dead_letters`) and opens a small pool on it. */
export async function openDeadLetterStore(options: {
  connectionString: string;
  namespace: string;
  logger: Logger;
}): Promise<{ store: DeadLetterStore; pool: Pool }> {
  const schema = `${options.namespace}dead_letters`;
  await migrate({ connectionString: options.connectionString, schema, dir: migrationDirs('dead-letters')[1] as string, logger: options.logger });
  const pool = createPool({ connectionString: options.connectionString, schema, max: 2, logger: options.logger });
  return { store: new DeadLetterStore(pool), pool };
}
