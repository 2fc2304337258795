import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import type { ReconciliationReport } from '../../services/payment-service/domain/reconciliation/reconcile.js';
import { startPaymentService } from '../../services/payment-service/app.js';
import { loadPaymentConfig } from '../../services/payment-service/config.js';
import { OrderApi, orderBody, ProviderLedger, type LedgerPayment } from '../support/order-api.js';
import { MAX_ATTEMPTS, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const GRACE_MS = 1_000;

let stack: TestStack;
let store: JobStore;
let api: OrderApi;
let ledger: ProviderLedger;

beforeAll(async () => {
  stack = await TestStack.start({
    RECONCILE_INTERVAL: 'off',
    RECONCILE_GRACE: `${GRACE_MS}ms`,
    JOBS_POLL_MS: '500',
    PAYMENT_PROVIDER_TIMEOUT_MS: '1000',
    BREAKER_RESET_TIMEOUT_MS: '500',
  });
  store = await JobStore.open({ connectionString: DATABASE_URL, namespace: stack.namespace, logger: createLogger({ service: 'reconcile-test', level: 'error' }) });
  api = new OrderApi(stack, 'cus_reconcile');
  ledger = new ProviderLedger(stack);
});

afterAll(async () => {
  await stack?.setProviderFaults({}).catch(() => undefined);
  await store?.close();
  await stack?.stop();
});

/** A request straight to the provider, as a person at its dashboard would make it. */
async function provider(method: string, path: string, body?: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.providerUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.providerApiKey}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`provider ${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

const chargeByHand = (orderId: string | null, amount = '12.00') =>
  provider('POST', '/payments/create', { amount, currency: 'USD', source: 'tok_visa', customer: 'cus_reconcile', description: 'by hand', ...(orderId ? { order_id: orderId } : {}) });

async function payment(id: string): Promise<LedgerPayment> {
  return (await provider('GET', `/payments/${id}`)) as unknown as LedgerPayment;
}

/** Runs the reconciliation as the CLI and the admin API do: through payment-service's job. */
async function reconcile(since: Date): Promise<ReconciliationReport> {
  const { id } = await store.run('payment-service.reconcile', { since: since.toISOString() });
  const job = await store.waitFor(id, 60_000);
  expect(job?.state).toBe('completed');
  return job!.output as ReconciliationReport;
}

const byKind = (report: ReconciliationReport, list: 'healed' | 'needs_attention') =>
  report[list].map((d) => `${d.kind} ${d.order_id ?? d.payment_id}`).sort();

describe('reconciliation against the provider ledger', () => {
  const started = new Date(Date.now() - 60_000);
  const ids: Record<string, string> = {};

  it('classifies every kind of disagreement, heals what is safe exactly once, and reports the rest', async () => {
    // 1. A charge with no saga behind it, for an order nobody placed.
    const unknownOrder = randomUUID();
    ids.unknownCharge = String((await chargeByHand(unknownOrder)).id);
    // 2. A charge with no order at all.
    ids.noOrderCharge = String((await chargeByHand(null)).id);
    // 3. An order whose card was declined (cancelled), then charged by hand.
    const declined = await api.settled((await api.place(orderBody({ payment_source: 'tok_chargeDeclined' }))).id);
    expect(declined.status).toBe('cancelled');
    ids.declinedOrder = declined.id;
    ids.cancelledCharge = String((await chargeByHand(declined.id)).id);
    // 4. Completed orders: one whose row is edited, one refunded by hand, one whose row is lost.
    const [edited, refundedByHand, lost] = await Promise.all([0, 1, 2].map(async () => api.settled((await api.place()).id)));
    for (const order of [edited, refundedByHand, lost]) expect(order!.status).toBe('completed');
    const payments = stack.table('payment-service', 'payments');
    await stack.db.query(`UPDATE ${payments} SET amount = amount + 1 WHERE order_id = $1`, [edited!.id]);
    const [handRefunded] = (await ledger.paymentsFor(refundedByHand!.id)).filter((p) => p.status === 'succeeded');
    await provider('POST', '/refunds', { payment: handRefunded!.id, reason: 'goodwill' });
    const [lostCharge] = (await ledger.paymentsFor(lost!.id)).filter((p) => p.status === 'succeeded');
    await stack.db.query(`DELETE FROM ${payments} WHERE order_id = $1`, [lost!.id]);
    // 5. A row that says charged, with a payment the provider never made.
    const phantom = await api.settled((await api.place()).id);
    await stack.db.query(`UPDATE ${payments} SET payment_id = 'py_never_made' WHERE order_id = $1`, [phantom.id]);
    // Past the grace period of the rows changed by the sagas.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 200));

    const first = await reconcile(started);
    expect({ status: first.status, error: first.error }).toEqual({ status: 'complete', error: null });
    expect(byKind(first, 'healed')).toEqual(
      [
        `charge_without_record ${unknownOrder}`,
        `charge_without_record ${ids.noOrderCharge}`,
        `charge_for_cancelled_order ${declined.id}`,
        `charge_without_record ${lost!.id}`,
      ].sort(),
    );
    expect(byKind(first, 'needs_attention')).toEqual(
      [
        `amount_mismatch ${edited!.id}`,
        `refund_not_recorded ${refundedByHand!.id}`,
        `charge_missing_at_provider ${phantom.id}`,
        `charge_without_record ${phantom.id}`,
      ].sort(),
    );
    // Refunded in full, once; the lost row written back as charged.
    for (const id of [ids.unknownCharge, ids.noOrderCharge, ids.cancelledCharge]) {
      const p = await payment(id!);
      expect(p.amount_refunded).toBe(p.amount);
    }
    const { rows } = await stack.db.query(`SELECT status, payment_id FROM ${payments} WHERE order_id = $1`, [lost!.id]);
    expect(rows).toEqual([{ status: 'charged', payment_id: lostCharge!.id }]);
    // The declined order's charge was refunded with the saga's refund key for that order.
    const cancelledHealing = first.healed.find((d) => d.order_id === declined.id)!;
    expect(cancelledHealing.action).toMatchObject({ kind: 'refund', idempotency_key: `order-${declined.id}-refund` });

    // A second run over the same window: nothing more is refunded or written; the rest stays open.
    const refundsBefore = await provider('GET', '/refunds?limit=100');
    const second = await reconcile(started);
    expect({ status: second.status, error: second.error }).toEqual({ status: 'complete', error: null });
    expect(second.healed).toEqual([]);
    expect(byKind(second, 'needs_attention')).toEqual(byKind(first, 'needs_attention'));
    expect((await provider('GET', '/refunds?limit=100')).data).toEqual(refundsBefore.data);

    // The open ones are in the discrepancy table, with their evidence, and counted as a metric.
    const open = await stack.db.query(`SELECT kind, evidence FROM ${stack.table('payment-service', 'payment_discrepancies')} WHERE status = 'open' ORDER BY kind`);
    expect(open.rows.map((r) => r.kind)).toEqual(['amount_mismatch', 'charge_missing_at_provider', 'charge_without_record', 'refund_not_recorded']);
    expect(open.rows.find((r) => r.kind === 'amount_mismatch')!.evidence).toMatchObject({ local_amount: expect.any(String), provider_amount: expect.any(String) });

    // A person fixes the edited row: the next run finds it resolved.
    await stack.db.query(`UPDATE ${payments} SET amount = amount - 1 WHERE order_id = $1`, [edited!.id]);
    const third = await reconcile(started);
    expect(third.resolved).toBe(1);
    expect(byKind(third, 'needs_attention')).not.toContain(`amount_mismatch ${edited!.id}`);
  });

  it('answers through the admin API with the last report, and runs on demand from it', async () => {
    const admin = new OrderApi(stack, 'admin');
    const run = await admin.request('POST', '/admin/reconciliation/runs', { since: started.toISOString() });
    expect(run.status).toBe(202);
    const { id } = (await run.json()) as { id: string };
    await store.waitFor(id, 60_000);
    const body = (await (await admin.request('GET', '/admin/reconciliation')).json()) as { last_run: ReconciliationReport & { job_id: string } };
    expect(body.last_run.job_id).toBe(id);
    expect(body.last_run.needs_attention.length).toBeGreaterThan(0);
  });

  it('against a provider too slow to answer, ends with a partial report, and the next run completes the window', async () => {
    await reconcile(started); // the last complete run ends now
    const orphan = String((await chargeByHand(randomUUID())).id);
    await stack.setProviderFaults({ latency_ms: 3_000, match: 'payments' });
    let partial: ReconciliationReport;
    try {
      const { id } = await store.run('payment-service.reconcile');
      const job = await store.waitFor(id, 60_000);
      partial = job!.output as ReconciliationReport;
    } finally {
      await stack.setProviderFaults({});
    }
    expect(partial.status).toBe('partial');
    expect(partial.error).toBeTruthy();
    expect(partial.healed).toEqual([]);
    // The breaker closes again once the provider answers; the next scheduled-style run (no `since`)
    // starts where the last complete one ended, so it covers the partial run's window.
    const next = await waitFor(async () => {
      const report = await reconcile2();
      return report.status === 'complete' ? report : undefined;
    }, { timeoutMs: 30_000, intervalMs: 1_000, what: 'a complete run' });
    expect(next.healed.map((d) => d.payment_id)).toContain(orphan);
    expect(Date.parse(next.window.since)).toBeLessThanOrEqual(Date.parse(partial.window.since));
  });
});

describe('the recurring reconciliation', () => {
  it('runs once per period when two instances of payment-service run it', async () => {
    const since = new Date();
    const env = {
      NAMESPACE: stack.namespace,
      DATABASE_URL,
      PORT: '0',
      METRICS_PORT: '0',
      PAYMENT_PROVIDER_URL: stack.providerUrl,
      PAYMENT_PROVIDER_API_KEY: stack.providerApiKey,
      ORDER_SERVICE_URL: stack.orderApi,
      RECONCILE_INTERVAL: '1m',
      JOBS_POLL_MS: '500',
      LOG_LEVEL: 'error',
      // As the stack's own services: its stop deletes the retry queues of that many attempts.
      MESSAGE_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    };
    const twins = await Promise.all([startPaymentService(loadPaymentConfig(env)), startPaymentService(loadPaymentConfig(env))]);
    try {
      const runs = async () =>
        (await stack.db.query<{ started_at: Date }>(`SELECT started_at FROM ${stack.table('payment-service', 'reconciliation_runs')} WHERE started_at >= $1`, [since])).rows;
      await waitFor(async () => (await runs()).length > 0, { timeoutMs: 20_000, what: 'the first scheduled run' });
      // Both instances look at the schedule every half second: give them many chances to run it twice.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const minutes = (await runs()).map((run) => Math.floor(run.started_at.getTime() / 60_000));
      // One run per minute; a second only if the wait crossed into the next minute.
      expect(new Set(minutes).size).toBe(minutes.length);
    } finally {
      for (const twin of twins) await twin.stop();
    }
  });
});

async function reconcile2(): Promise<ReconciliationReport> {
  const { id } = await store.run('payment-service.reconcile');
  const job = await store.waitFor(id, 60_000);
  return job!.output as ReconciliationReport;
}
