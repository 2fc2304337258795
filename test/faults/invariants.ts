import type { ReconciliationReport } from '../../services/payment-service/domain/reconciliation/reconcile.js';
import { readCatalog } from '../../shared/contracts/catalog.js';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import { toMinorUnits } from '../../shared/contracts/money.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import { waitFor } from '../support/wait-for.js';
import type { InvariantTarget } from './invariant-target.js';
import { LOAD_CUSTOMER, type LoadResult } from './load-generator.js';
import { waitForQuiescence } from './quiescence.js';
import { describeOffender, findStockOffenders } from './stock-offenders.js';

export interface InvariantReport {
  orders_sent: number;
  accepted: number;
  completed: number;
  cancelled: number;
  lost: number;
  double_charges: number;
  dead_letters: number;
  seconds_to_settle: number;
  /** From every order having ended to the system being quiescent (or the wait given up). */
  seconds_to_quiesce: number;
  /**
   * Orders whose reservation did not match their end state yet when every order had ended
   * (inventory had not applied the event that ends them): normal lag, a violation only if it lasts.
   */
  stock_lagging_at_settle: number;
  /** What the payment reconciliation checked and found at the end (it must find nothing). */
  reconciliation: { provider_payments: number; payment_rows: number; healed: number; needs_attention: number; seconds: number } | null;
  violations: string[];
}


interface OrderRow {
  id: string;
  status: string;
  total: string;
  currency: string;
}

/** Offending orders described in full on a stock violation; the rest are counted. */
const OFFENDERS_LISTED = 10;

/**
 * Waits for every accepted order to end, then for the system to be quiescent (every event
 * published and applied by each of its subscribers), then checks the nine invariants listed in
 * docs/architecture.md against the provider's ledger and the databases. Every service's end state
 * is judged only once it is quiescent: an order that order-service shows ended may still have its
 * compensation on its way to inventory or payment. Returns the figures and the violations (empty =
 * pass).
 */
export async function checkInvariants(
  stack: InvariantTarget,
  load: LoadResult,
  options: {
    settleTimeoutMs?: number;
    /** How long the system may take, once every order has ended, to apply every event. @defaultValue 60 000 */
    quiescenceTimeoutMs?: number;
    expectedDeadLetters?: number;
    /** When the fault was healed (epoch ms); seconds_to_settle counts from it. @defaultValue now */
    healedAt?: number;
    /** The orders `completed` and `cancelled` count (a scenario's own). @defaultValue every accepted order */
    countOnly?: string[];
    /**
     * Called once every order has ended, before the wait for quiescence: a test drives an
     * interleaving with it (e.g. lets a service it held back go on).
     */
    onSettled?: () => Promise<void>;
  } = {},
): Promise<InvariantReport> {
  const violations: string[] = [];
  const started = options.healedAt ?? Date.now();
  const ids = load.accepted.map((o) => o.id);
  const orders = stack.table('order-service', 'orders');

  // 1. every accepted order ends (and nothing accepted is missing: lost = 0)
  let rows: OrderRow[] = [];
  try {
    rows = await waitFor(
      async () => {
        const result = await stack.db.query<OrderRow>(
          `SELECT id, status, total::text AS total, currency FROM ${orders} WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        return result.rows.every((r) => r.status === 'completed' || r.status === 'cancelled') && result.rows.length === ids.length
          ? result.rows
          : undefined;
      },
      { timeoutMs: options.settleTimeoutMs ?? 90_000, intervalMs: 250, what: 'every accepted order to end' },
    );
  } catch (error) {
    violations.push(`1: ${(error as Error).message}`);
    rows = (await stack.db.query<OrderRow>(`SELECT id, status, total::text AS total, currency FROM ${orders} WHERE id = ANY($1::uuid[])`, [ids])).rows;
  }
  const secondsToSettle = (Date.now() - started) / 1000;
  const lost = ids.length - rows.length;
  if (lost > 0) violations.push(`1: ${lost} accepted orders are missing`);
  // ... and no order exists that no client was told of (a retry with the same key made a second one)
  const { rows: unknown } = await stack.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${orders} WHERE customer_id = $1 AND NOT (id = ANY($2::uuid[]))`,
    [LOAD_CUSTOMER, ids],
  );
  if ((unknown[0]?.n ?? 0) > 0) violations.push(`3: ${unknown[0]!.n} orders were created that no client was answered with`);

  // What a check made now would see of stock: only a figure (and a note), the verdict waits for quiescence.
  const lagging = await findStockOffenders(stack, ids, 3);
  if (lagging.total > 0) {
    console.info(
      `[invariants] when every order had ended, ${lagging.total} reservation(s) did not match their order yet (checked again once quiescent): ${lagging.offenders.map(describeOffender).join(' | ')}`,
    );
  }

  await options.onSettled?.();

  // 5. no lost event: every outbox row published, every subscriber applied every event (its inbox has the id)
  const quiescence = await waitForQuiescence(stack, { timeoutMs: options.quiescenceTimeoutMs });
  violations.push(...quiescence.left);

  // 2 and 3. money per order; at most one charge and one refund
  const payments = await ledgerByOrder(stack);
  let doubleCharges = 0;
  for (const order of rows) {
    const mine = (payments.get(order.id) ?? []).filter((p) => p.status === 'succeeded');
    if (mine.length > 1) doubleCharges += 1;
    const net = mine.reduce((sum, p) => sum + toMinorUnits(p.amount, p.currency) - toMinorUnits(p.amount_refunded, p.currency), 0n);
    const expected = order.status === 'completed' ? toMinorUnits(order.total, order.currency) : 0n;
    if (net !== expected) violations.push(`2: order ${order.id} (${order.status}) nets ${net}, expected ${expected}`);
  }
  if (doubleCharges > 0) violations.push(`3: ${doubleCharges} orders charged more than once`);
  const refunds = await stack.db.query(
    `SELECT payment_id, count(*)::int AS n FROM ${stack.table('payment-provider', 'refunds')} GROUP BY 1 HAVING count(*) > 1`,
  );
  if (refunds.rows.length > 0) violations.push(`3: ${refunds.rows.length} payments refunded more than once`);

  // 4. stock: reserved now = quantities of completed orders; never negative
  const stockViolations = violations.length;
  const stock = await stack.db.query<{ sku: string; available: number }>(`SELECT sku, available FROM ${stack.table('inventory-service', 'stock')}`);
  const reserved = await stack.db.query<{ sku: string; quantity: string }>(
    `SELECT l->>'sku' AS sku, sum((l->>'quantity')::int)::text AS quantity
     FROM ${stack.table('inventory-service', 'reservations')}, jsonb_array_elements(items) l WHERE status = 'reserved' GROUP BY 1`,
  );
  const completedQuantity = new Map<string, number>();
  const byId = new Map(load.accepted.map((o) => [o.id, o]));
  for (const order of rows.filter((r) => r.status === 'completed')) {
    const placed = byId.get(order.id);
    if (placed) completedQuantity.set(placed.sku, (completedQuantity.get(placed.sku) ?? 0) + placed.quantity);
  }
  for (const row of reserved.rows) {
    if (Number(row.quantity) !== (completedQuantity.get(row.sku) ?? 0)) {
      violations.push(`4: ${row.sku} has ${row.quantity} reserved, completed orders took ${completedQuantity.get(row.sku) ?? 0}`);
    }
  }
  if (stock.rows.some((r) => r.available < 0)) violations.push('4: negative stock');
  const initial = new Map(readCatalog(repoPath('infra/seed/catalog.json')).products.map((p) => [p.sku, p.stock]));
  for (const row of stock.rows) {
    const taken = (initial.get(row.sku) ?? 0) - row.available;
    if (taken !== (completedQuantity.get(row.sku) ?? 0)) {
      violations.push(`4: ${row.sku}: initial − available = ${taken}, completed orders took ${completedQuantity.get(row.sku) ?? 0}`);
    }
  }
  const offenders = await findStockOffenders(stack, ids, OFFENDERS_LISTED);
  if (offenders.total > 0 || violations.length > stockViolations) {
    violations.push(...offenders.offenders.map((o) => `4: ${describeOffender(o)}`));
    if (offenders.total > offenders.offenders.length) violations.push(`4: … and ${offenders.total - offenders.offenders.length} more such orders`);
  }

  // 6. dead letters: exactly the injected ones (the archive may lag the dead-letter queues a little)
  const expectedDeadLetters = options.expectedDeadLetters ?? 0;
  const countLetters = async () =>
    (await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${stack.table('dead-letters', 'dead_letters')}`).catch(() => ({ rows: [{ n: 0 }] })))
      .rows[0]?.n ?? 0;
  await waitFor(async () => (await countLetters()) >= expectedDeadLetters, { timeoutMs: 30_000 }).catch(() => undefined);
  const deadLetters = await countLetters();
  if (deadLetters !== expectedDeadLetters) violations.push(`6: ${deadLetters} dead letters, expected ${expectedDeadLetters}`);

  // 7. no undeclared 5xx
  if (load.undeclared5xx > 0) violations.push(`7: ${load.undeclared5xx} undeclared 5xx answers`);

  // 8. no secrets in logs
  const leaks = stack.logLines().filter((line) => /tok_(visa|chargeDeclined)|sk_test_fault_suite_key|Bearer [A-Za-z0-9]/.test(line));
  if (leaks.length > 0) violations.push(`8: ${leaks.length} log lines hold a secret, e.g. ${leaks[0]?.slice(0, 200)}`);

  // 9. the payment reconciliation agrees: nothing to heal, nothing for a person
  const reconciliation = await reconcileEverything(stack).catch((error: unknown) => {
    violations.push(`9: the reconciliation did not run: ${(error as Error).message}`);
    return null;
  });
  if (reconciliation && reconciliation.status !== 'complete') violations.push(`9: the reconciliation ended ${reconciliation.status}: ${reconciliation.error}`);
  for (const found of [...(reconciliation?.healed ?? []), ...(reconciliation?.needs_attention ?? [])]) {
    violations.push(`9: the reconciliation found ${found.kind} (order ${found.order_id ?? '-'}, payment ${found.payment_id ?? '-'})`);
  }

  const counted = options.countOnly ? new Set(options.countOnly) : undefined;
  const mine = counted ? rows.filter((r) => counted.has(r.id)) : rows;
  return {
    orders_sent: load.sent,
    accepted: ids.length,
    completed: mine.filter((r) => r.status === 'completed').length,
    cancelled: mine.filter((r) => r.status === 'cancelled').length,
    lost,
    double_charges: doubleCharges,
    dead_letters: deadLetters,
    seconds_to_settle: Math.round(secondsToSettle * 10) / 10,
    seconds_to_quiesce: Math.round(quiescence.ms / 100) / 10,
    stock_lagging_at_settle: lagging.total,
    reconciliation: reconciliation && {
      provider_payments: reconciliation.checked.provider_payments,
      payment_rows: reconciliation.checked.local_payments,
      healed: reconciliation.healed.length,
      needs_attention: reconciliation.needs_attention.length,
      seconds: reconciliation.duration_ms / 1000,
    },
    violations,
  };
}

/**
 * Runs payment-service's reconciliation over everything the stack has charged (its job, as an
 * operator would), once the grace period of the last changes has passed (the stacks set it to 1 s).
 */
async function reconcileEverything(stack: InvariantTarget): Promise<ReconciliationReport> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const store = await JobStore.open({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    namespace: stack.namespace,
    logger: createLogger({ service: 'invariants', level: 'error' }),
  });
  try {
    const { id } = await store.run('payment-service.reconcile', { since: new Date(Date.now() - 6 * 3_600_000).toISOString() });
    const job = await store.waitFor(id, 120_000);
    if (job?.state !== 'completed') throw new Error(`its job ${id} is ${job?.state ?? 'still waiting'}: ${JSON.stringify(job?.output ?? null)}`);
    return job.output as ReconciliationReport;
  } finally {
    await store.close();
  }
}

async function ledgerByOrder(stack: InvariantTarget) {
  const { rows } = await stack.db.query<{ order_id: string; status: string; amount: string; amount_refunded: string; currency: string }>(
    `SELECT order_id, status, amount::text AS amount, amount_refunded::text AS amount_refunded, currency FROM ${stack.table('payment-provider', 'payments')}`,
  );
  const byOrder = new Map<string, typeof rows>();
  for (const row of rows) byOrder.set(row.order_id, [...(byOrder.get(row.order_id) ?? []), row]);
  return byOrder;
}
