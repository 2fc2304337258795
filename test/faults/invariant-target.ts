import type pg from 'pg';
import type { SagaService } from '../../shared/contracts/saga.js';

/** Who owns a Postgres schema of the system: the services, the provider and the dead-letter archive. */
export type SchemaOwner = SagaService | 'payment-provider' | 'dead-letters';

/**
 * What the invariant checks read: the system's databases (one schema per owner) and its log lines.
 * A ProcessStack is one; an in-process TestStack becomes one with its log capture's lines.
 */
export interface InvariantTarget {
  /** Prefix of its schemas: the jobs (the reconciliation runs as one) live under it too. */
  readonly namespace: string;
  readonly db: pg.Pool;
  table(owner: SchemaOwner, name: string): string;
  logLines(): string[];
}
