import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEPT_MARKER, type ProcessStack } from '../support/process-stack.js';

/**
 * Describes a stopped stack left in place after a failure: writes, into the file that marks it
 * kept, what failed, where to look (logs, schemas, queues) and how to delete it, and returns that
 * note for printing. Kept runs are never deleted automatically; the discard script removes them.
 */
export function noteKeptRun(stack: ProcessStack, failures: string[]): string {
  const ns = stack.namespace;
  // Never print a secret: passwords in the URLs are hidden.
  const database = new URL(stack.db.options.connectionString ?? 'postgres://127.0.0.1:5432/postgres');
  database.password = '';
  const broker = stack.amqpUrl.replace(/\/\/([^:/@]+):[^@]*@/g, '//$1:***@');
  const note = [
    `[fault-run] a scenario failed: namespace ${ns} and its logs are kept for inspection`,
    ...failures.map((failure) => `  failed:  ${failure}`),
    `  logs:    ${stack.logDir}/<process>.log`,
    `  schemas: psql '${database}' -c '\\dn ${ns}*'`,
    `           e.g. SET search_path TO "${ns}inventory_service"; SELECT * FROM reservations WHERE status = 'reserved';`,
    `  queues:  rabbitmqctl list_queues name messages consumers | grep ${ns}   (broker: ${broker})`,
    `  delete:  npx tsx test/faults/discard-kept-runs.ts ${ns}   (every kept run: --all; list them: no argument;`,
    `           another broker than the local one: set AMQP_URL to it)`,
  ].join('\n');
  writeFileSync(path.join(stack.logDir, KEPT_MARKER), `${note}\n`);
  return note;
}
