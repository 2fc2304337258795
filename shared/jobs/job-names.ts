import { assertSchemaName } from '../db/pool.js';

/** The Postgres schema that holds every service's jobs in a namespace (pg-boss's tables). */
export function jobSchema(namespace: string): string {
  return assertSchemaName(`${namespace}jobs`);
}

/** A job's queue: `<service>.<job>`, e.g. `payment-service.reconcile`. */
export function queueName(service: string, job: string): string {
  return `${service}.${job}`;
}
