import { randomUUID } from 'node:crypto';
import type { Pool } from '../../../../shared/db/pool.js';
import type { Logger } from '../../../../shared/logging/logger.js';
import type { PaymentResponse, PaymentService } from '../../data-access/payment-provider/payment-service.js';
import {
  finishRun,
  lastCompleteWindowEnd,
  recordCharge,
  recordsCreatedBetween,
  recordsOf,
  resolveDiscrepancy,
  saveDiscrepancy,
  startRun,
  unsettledDiscrepancies,
  type DiscrepancyStatus,
} from '../../data-access/reconciliation-repository.js';
import { refundKey } from '../idempotency-keys.js';
import { settleRefund, type RefundDeps } from '../refund-payment.js';
import { classify, type DiscrepancyKind, type Finding, type LedgerCharge, type OrderState, type PaymentRecord, type Subject } from './classify.js';

/** Asks order-service what became of an order (only for charges no row accounts for). */
export interface OrderDirectory {
  stateOf(orderId: string): Promise<OrderState>;
}

export interface ReconcileDeps extends RefundDeps {
  pool: Pool;
  orders: OrderDirectory;
  /** A disagreement a saga in flight may explain counts once its row has been still this long. */
  graceMs: number;
  /** Window of the first run, when no run has completed yet. @defaultValue 24 h */
  firstLookbackMs?: number;
}

export interface ReconcileOptions {
  /** Start of the window; default: where the last complete run ended, less the grace period. */
  since?: Date;
  /** Aborted when the service stops: the run ends as partial. */
  signal?: AbortSignal;
}

/** One finding as a report lists it. */
export interface ReportedDiscrepancy {
  kind: DiscrepancyKind;
  order_id: string | null;
  payment_id: string | null;
  evidence: Record<string, unknown>;
  /** What was done (healed), or why nothing was (open). */
  action: Record<string, unknown>;
}

/**
 * What a run did: the window, what it checked on each side, what it healed, what needs a person,
 * and what waits for its grace period. `partial`: the provider could not be read whole (down, slow,
 * the service stopping); nothing was classified, and the next run covers the window again.
 */
export interface ReconciliationReport {
  run_id: string;
  status: 'complete' | 'partial';
  window: { since: string; until: string };
  checked: { provider_payments: number; provider_refunds: number; local_payments: number };
  healed: ReportedDiscrepancy[];
  needs_attention: ReportedDiscrepancy[];
  pending: number;
  /** Earlier discrepancies this run no longer finds. */
  resolved: number;
  error: string | null;
  duration_ms: number;
}

const PAGE = 100;
const LOOKUP_CONCURRENCY = 8;

/**
 * Compares the provider's ledger with the payments table for a window, classifies each
 * disagreement ({@link classify}), heals what is safe — refunds a charge nobody should keep,
 * records a charge a completed order paid — and records the rest as open discrepancies for a
 * person. Idempotent: a second run over the same window changes nothing (a refund is sent only
 * for a charge the provider still shows unrefunded, under a key derived from the order or the
 * payment; the provider refuses to refund more than was charged).
 */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconciliationReport> {
  const started = Date.now();
  const until = new Date();
  const lastEnd = await lastCompleteWindowEnd(deps.pool);
  const since =
    options.since ?? (lastEnd ? new Date(lastEnd.getTime() - deps.graceMs) : new Date(until.getTime() - (deps.firstLookbackMs ?? 24 * 3_600_000)));
  const runId = randomUUID();
  await startRun(deps.pool, runId, since, until);
  const report: ReconciliationReport = {
    run_id: runId,
    status: 'complete',
    window: { since: since.toISOString(), until: until.toISOString() },
    checked: { provider_payments: 0, provider_refunds: 0, local_payments: 0 },
    healed: [],
    needs_attention: [],
    pending: 0,
    resolved: 0,
    error: null,
    duration_ms: 0,
  };
  try {
    await compare(deps, report, since, until, options.signal);
  } catch (error) {
    report.status = 'partial';
    report.error = error instanceof Error ? error.message : String(error);
    deps.logger.warn('reconciliation ended partial; the next run covers its window again', { error, run_id: runId });
  }
  report.duration_ms = Date.now() - started;
  await finishRun(deps.pool, runId, report.status, report);
  return report;
}

async function compare(deps: ReconcileDeps, report: ReconciliationReport, since: Date, until: Date, signal?: AbortSignal): Promise<void> {
  const charges = new Map<string, LedgerCharge>();
  const missing = new Set<string>();
  const { payments, refunds } = await readLedger(deps.payments, since, until, signal);
  report.checked.provider_payments = payments.length;
  report.checked.provider_refunds = refunds.length;
  for (const payment of payments) if (payment.status === 'succeeded') charges.set(payment.paymentId, toCharge(payment));

  const unsettled = await unsettledDiscrepancies(deps.pool);
  const records = new Map<string, PaymentRecord>();
  const orderIds = new Set([...charges.values()].flatMap((c) => (c.orderId ? [c.orderId] : [])));
  for (const d of unsettled) if (d.order_id) orderIds.add(d.order_id);
  for (const record of [...(await recordsCreatedBetween(deps.pool, since, until)), ...(await recordsOf(deps.pool, uuids(orderIds)))]) {
    records.set(record.orderId, record);
  }
  report.checked.local_payments = records.size;

  // The payments a row names, a refund in the window touched, or an open discrepancy is about, if
  // the window's page of the ledger did not hold them; and the charges of open discrepancies' orders.
  const wanted = new Set<string>();
  for (const record of records.values()) if (record.paymentId) wanted.add(record.paymentId);
  for (const refund of refunds) wanted.add(refund.paymentId);
  for (const d of unsettled) if (d.payment_id) wanted.add(d.payment_id);
  await inParallel([...wanted].filter((id) => !charges.has(id)), async (paymentId) => {
    const payment = await deps.payments.getPayment(paymentId);
    if (payment?.status === 'succeeded') charges.set(paymentId, toCharge(payment));
    else missing.add(paymentId);
  }, signal);
  await inParallel(uuids(unsettled.flatMap((d) => (d.order_id ? [d.order_id] : []))), async (orderId) => {
    for (const payment of await deps.payments.findPaymentsByOrder(orderId)) {
      if (payment.status === 'succeeded') charges.set(payment.paymentId, toCharge(payment));
    }
  }, signal);

  // One subject per order (its row and its charges), and one per charge that names no order.
  const subjects = new Map<string, Subject>();
  const subjectOf = (orderId: string): Subject => {
    let subject = subjects.get(orderId);
    if (!subject) {
      const record = records.get(orderId) ?? null;
      subject = { orderId, record, charges: [], recordedPaymentMissing: record?.paymentId ? missing.has(record.paymentId) : false };
      subjects.set(orderId, subject);
    }
    return subject;
  };
  for (const record of records.values()) subjectOf(record.orderId);
  for (const charge of charges.values()) {
    if (charge.orderId && isUuid(charge.orderId)) subjectOf(charge.orderId).charges.push(charge);
    // A charge with no order, or an order id that is none of ours (a charge made by hand).
    else subjects.set(`payment:${charge.paymentId}`, { orderId: charge.orderId, record: null, charges: [charge], recordedPaymentMissing: false, orderState: 'unknown' });
  }

  let findings = [...subjects.values()].flatMap((subject) => classify(subject).map((finding) => ({ finding, subject })));
  // Only charges no row accounts for need the order's state: ask order-service, then look again.
  const asking = uuids(findings.filter(({ finding }) => finding.needsOrderState).flatMap(({ finding }) => (finding.orderId ? [finding.orderId] : [])));
  if (asking.length > 0) {
    await inParallel(asking, async (orderId) => {
      const subject = subjects.get(orderId)!;
      subject.orderState = await deps.orders.stateOf(orderId).catch((error: unknown) => {
        deps.logger.warn('could not ask order-service about an order; its charge stays open', { error, correlation_id: orderId });
        return 'unavailable' as const;
      });
    }, signal);
    findings = [...subjects.values()].flatMap((subject) => classify(subject).map((finding) => ({ finding, subject })));
  }

  const seen = new Set<string>();
  for (const { finding, subject } of findings) {
    signal?.throwIfAborted();
    seen.add(identity(finding.kind, stored(finding).orderId, finding.paymentId));
    const waiting = finding.inFlightMayExplain && subject.record !== null && until.getTime() - subject.record.updatedAt.getTime() < deps.graceMs;
    if (waiting) {
      report.pending += 1;
      await saveDiscrepancy(deps.pool, { ...stored(finding), status: 'pending', action: null });
      continue;
    }
    const outcome = await heal(deps, finding, subject);
    const entry: ReportedDiscrepancy = { kind: finding.kind, order_id: finding.orderId, payment_id: finding.paymentId, evidence: finding.evidence, action: outcome.action };
    const status: DiscrepancyStatus = outcome.healed ? 'healed' : 'open';
    const { previous } = await saveDiscrepancy(deps.pool, { ...stored(finding), status, action: outcome.action });
    if (outcome.healed) {
      report.healed.push(entry);
      deps.logger.warn('payment discrepancy healed', { kind: finding.kind, correlation_id: finding.orderId ?? undefined, payment_id: finding.paymentId, action: outcome.action });
    } else {
      report.needs_attention.push(entry);
      if (previous !== 'open') {
        deps.logger.error('payment discrepancy needs a person', { kind: finding.kind, correlation_id: finding.orderId ?? undefined, payment_id: finding.paymentId, evidence: finding.evidence, action: outcome.action });
      }
    }
  }

  // What an earlier run found and this one, having looked at the same order or payment, does not.
  const looked = new Set([...subjects.values()].flatMap((s) => [...(s.orderId ? [s.orderId] : []), ...s.charges.map((c) => c.paymentId)]));
  for (const d of unsettled) {
    if (seen.has(identity(d.kind, d.order_id, d.payment_id))) continue;
    if ((d.order_id && looked.has(d.order_id)) || (d.payment_id && (looked.has(d.payment_id) || missing.has(d.payment_id)))) {
      await resolveDiscrepancy(deps.pool, d.id);
      report.resolved += 1;
    }
  }
}

/** Does what the finding's healing says, if it is still due; returns what was done, or why not. */
async function heal(deps: ReconcileDeps, finding: Finding, subject: Subject): Promise<{ healed: boolean; action: Record<string, unknown> }> {
  const healing = finding.healing;
  try {
    switch (healing.kind) {
      case 'none':
        return { healed: false, action: { kind: 'none', why: healing.why } };
      case 'record_charge':
        await recordCharge(deps.pool, { orderId: finding.orderId!, paymentId: healing.paymentId, amount: healing.amount, currency: healing.currency });
        return { healed: true, action: { kind: 'record_charge', payment_id: healing.paymentId } };
      case 'refund': {
        // Looked at again just before: never a second refund of what is already given back.
        const fresh = await deps.payments.getPayment(healing.paymentId);
        if (!fresh || fresh.status !== 'succeeded') return { healed: false, action: { kind: 'none', why: 'the provider no longer holds the charge as succeeded' } };
        if (fresh.amountRefunded === fresh.amount) return { healed: true, action: { kind: 'refund', payment_id: healing.paymentId, already_refunded: true } };
        const record = subject.record;
        const orderId = finding.orderId;
        // A refunding row's own refund step: the row becomes refunded and payment.refunded goes out,
        // so the order's saga ends as if the refund had gone through the first time.
        if (record?.status === 'refunding' && orderId && record.paymentId === healing.paymentId) {
          await settleRefund(deps, orderId, 'cancelled', { id: randomUUID(), type: 'reconciliation' });
          return { healed: true, action: { kind: 'refund', payment_id: healing.paymentId, via: 'saga_refund_step' } };
        }
        // The order's own refund key where the saga could send the same refund (a cancelled row's
        // late charge, a charge with no row); a key of the payment's own otherwise (a refund that
        // vanished from the provider, a second charge), which the saga never sends.
        const sagaMaySend = orderId && isUuid(orderId) && (!record || ['cancelled', 'failed', 'charging'].includes(record.status)) && subject.charges.length === 1;
        const key = sagaMaySend ? refundKey(orderId) : `reconcile-${healing.paymentId}-refund`;
        const refund = await deps.payments.refundPayment({ paymentId: healing.paymentId, reason: healing.reason }, { idempotencyKey: key });
        return { healed: true, action: { kind: 'refund', payment_id: healing.paymentId, refund_id: refund.refundId, amount: refund.amount, idempotency_key: key } };
      }
    }
  } catch (error) {
    deps.logger.warn('could not heal a payment discrepancy; the next run tries again', { error, kind: finding.kind, correlation_id: finding.orderId ?? undefined });
    return { healed: false, action: { kind: healing.kind, failed: error instanceof Error ? error.message : String(error) } };
  }
}

/** The provider's payments and refunds created in [since, until), paging newest first until older ones. */
async function readLedger(
  provider: PaymentService,
  since: Date,
  until: Date,
  signal?: AbortSignal,
): Promise<{ payments: PaymentResponse[]; refunds: { paymentId: string }[] }> {
  const inWindow = (created: Date) => created >= since && created < until;
  const readAll = async <T extends { createdAt: Date }>(list: (cursor?: string) => Promise<{ items: T[]; hasMore: boolean }>, idOf: (item: T) => string) => {
    const found: T[] = [];
    let cursor: string | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const page = await list(cursor);
      found.push(...page.items.filter((item) => inWindow(item.createdAt)));
      const last = page.items.at(-1);
      if (!page.hasMore || !last || last.createdAt < since) return found;
      cursor = idOf(last);
    }
  };
  const payments = await readAll((cursor) => provider.listPayments({ limit: PAGE, ...(cursor ? { startingAfter: cursor } : {}) }), (p) => p.paymentId);
  const refunds = await readAll((cursor) => provider.listRefunds({ limit: PAGE, ...(cursor ? { startingAfter: cursor } : {}) }), (r) => r.refundId);
  return { payments, refunds };
}

/** Runs `work` over `items`, LOOKUP_CONCURRENCY at a time; the first failure fails the whole. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      await work(items[next++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, items.length) }, worker));
}

function toCharge(payment: PaymentResponse): LedgerCharge {
  return {
    paymentId: payment.paymentId,
    orderId: payment.orderId ?? null,
    amount: payment.amount,
    currency: payment.currency,
    amountRefunded: payment.amountRefunded,
    createdAt: payment.createdAt,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: string) => UUID.test(value);
/** Order ids as the payments table keys them (a charge made by hand may name anything). */
const uuids = (ids: Iterable<string>) => [...new Set(ids)].filter(isUuid);

const identity = (kind: string, orderId: string | null, paymentId: string | null) => `${kind}|${orderId ?? ''}|${paymentId ?? ''}`;
/** A finding as the discrepancy table keys it: an order id that is none of ours stays in the evidence only. */
const stored = (finding: Finding) => ({
  kind: finding.kind,
  orderId: finding.orderId && isUuid(finding.orderId) ? finding.orderId : null,
  paymentId: finding.paymentId,
  evidence: { ...finding.evidence, ...(finding.orderId && !isUuid(finding.orderId) ? { provider_order_id: finding.orderId } : {}) },
});
