/**
 * The reconciliation's cost: `npm run bench:reconcile [-- PAYMENTS]` (default 10 000).
 *
 * Seeds a stack (provider, payment-service, order-service, in this process) with PAYMENTS charges
 * that agree on both sides — the provider's ledger and payment-service's rows, written straight
 * into their tables, as many sagas would have left them — plus one charge nothing accounts for,
 * then runs payment-service's `reconcile` job over them twice and prints the
 * figures: each run's time, payments checked per second, and what it healed and reported.
 */
import { randomBytes } from 'node:crypto';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import type { ReconciliationReport } from '../../services/payment-service/domain/reconciliation/reconcile.js';
import { TestStack } from '../support/test-stack.js';

const count = Number(process.argv[2] ?? 10_000);
if (!Number.isInteger(count) || count < 1) {
  console.error('usage: npm run bench:reconcile [-- PAYMENTS]');
  process.exit(2);
}
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const stack = await TestStack.start({ LOG_LEVEL: 'warn' }, { services: ['payment-provider', 'order-service', 'payment-service'] });
const store = await JobStore.open({ connectionString: DATABASE_URL, namespace: stack.namespace, logger: createLogger({ service: 'bench', level: 'error' }) });
try {
  const since = new Date(Date.now() - 2 * 3_600_000);
  const ledger = stack.table('payment-provider', 'payments');
  const rows = stack.table('payment-service', 'payments');
  // Charges spread over the last hour, each recorded on both sides (amounts 1.00 … 99.99 USD).
  await stack.db.query(
    `WITH seeded AS (
       SELECT gen_random_uuid() AS order_id, 'py_' || md5(random()::text) AS payment_id,
              round((1 + random() * 98.99)::numeric, 2) AS amount, now() - random() * interval '1 hour' AS at
       FROM generate_series(1, $1)
     ), provider AS (
       INSERT INTO ${ledger} (id, customer, order_id, amount, currency, status, source_brand, created_at)
       SELECT payment_id, 'cus_bench', order_id::text, amount, 'USD', 'succeeded', 'visa', at FROM seeded
     )
     INSERT INTO ${rows} (order_id, status, customer_id, amount, currency, payment_id, created_at, updated_at)
     SELECT order_id, 'charged', 'cus_bench', amount, 'USD', payment_id, at, at FROM seeded`,
    [count],
  );
  // One charge with no row and no order: the first run refunds it, the second finds nothing.
  await stack.db.query(
    `INSERT INTO ${ledger} (id, customer, order_id, amount, currency, status, source_brand) VALUES ($1, 'cus_bench', NULL, 5, 'USD', 'succeeded', 'visa')`,
    [`py_orphan_${randomBytes(4).toString('hex')}`],
  );
  await stack.db.query(`ANALYZE ${ledger}; ANALYZE ${rows}`);

  const runs: { wallMs: number; report: ReconciliationReport }[] = [];
  for (let i = 0; i < 2; i += 1) {
    const started = Date.now();
    const { id } = await store.run('payment-service.reconcile', { since: since.toISOString() });
    const job = await store.waitFor(id, 600_000, 50);
    if (job?.state !== 'completed') throw new Error(`run ${i + 1}: ${job?.state ?? 'did not end'} ${JSON.stringify(job?.output ?? null)}`);
    runs.push({ wallMs: Date.now() - started, report: job.output as ReconciliationReport });
  }
  console.log(`# Reconciliation over ${count} payments (${new Date().toISOString()})\n`);
  console.log('| run | provider payments | payment rows | healed | needs a person | run ms | job ms (queue to end) | payments/s |');
  console.log('|---|---|---|---|---|---|---|---|');
  runs.forEach(({ wallMs, report }, i) => {
    const perSecond = Math.round(report.checked.provider_payments / (report.duration_ms / 1000));
    console.log(
      `| ${i + 1} | ${report.checked.provider_payments} | ${report.checked.local_payments} | ${report.healed.length} | ${report.needs_attention.length} | ${report.duration_ms} | ${wallMs} | ${perSecond} |`,
    );
  });
  console.log(`\nrun 1 healed: ${runs[0]!.report.healed.map((d) => d.kind).join(', ') || 'nothing'}; run 2 healed: ${runs[1]!.report.healed.map((d) => d.kind).join(', ') || 'nothing'}`);
  console.log(`(run ms: the job's own time; job ms adds the wait for a worker to pick it up, up to JOBS_POLL_MS)`);
} finally {
  await store.close();
  await stack.stop();
}
process.exit(0);
