import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type SagaEvent } from '../../shared/contracts/events.js';
import { migrate, migrationDirs } from '../../shared/db/migrate.js';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { UnitOfWork } from '../../shared/db/unit-of-work.js';
import { InvalidPaymentRequestError, PaymentOutcomeUnknownError } from '../../services/payment-service/data-access/payment-provider/payment-errors.js';
import type {
  PaymentRequest,
  PaymentResponse,
  PaymentService,
  RefundResponse,
} from '../../services/payment-service/data-access/payment-provider/payment-service.js';
import { chargePayment } from '../../services/payment-service/domain/charge-payment.js';
import { refundPayment } from '../../services/payment-service/domain/refund-payment.js';
import { ADDRESS } from '../support/order-api.js';
import { LogCapture } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `h${randomBytes(4).toString('hex')}_payment_service`;
const logger = new LogCapture().loggerFor('payment-service');

/**
 * A provider that keeps its ledger in memory, for tests only: one payment per idempotency key, as
 * the real provider does, and scripted failures on the next calls.
 */
class ScriptedProvider implements PaymentService {
  readonly charges = new Map<string, PaymentResponse>();
  readonly refunds = new Map<string, RefundResponse>();
  chargeCalls = 0;
  /** The next charge is performed, but its answer is lost. */
  loseNextChargeAnswer = false;
  /** The next charge is not performed and its answer is lost. */
  dropNextCharge = false;
  /** When set, a charge waits for it before the provider acts (a charge in flight). */
  gate: Promise<void> | undefined;

  async processPayment(request: PaymentRequest, { idempotencyKey }: { idempotencyKey: string }): Promise<PaymentResponse> {
    this.chargeCalls += 1;
    if (this.gate) await this.gate;
    if (this.dropNextCharge) {
      this.dropNextCharge = false;
      throw new PaymentOutcomeUnknownError('timeout before the provider acted');
    }
    const payment = this.charges.get(idempotencyKey) ?? {
      paymentId: `pay_${this.charges.size + 1}`,
      status: 'succeeded' as const,
      amount: request.amount,
      currency: request.currency,
      createdAt: new Date(),
      amountRefunded: '0',
      ...(request.orderId ? { orderId: request.orderId } : {}),
    };
    this.charges.set(idempotencyKey, payment);
    if (this.loseNextChargeAnswer) {
      this.loseNextChargeAnswer = false;
      throw new PaymentOutcomeUnknownError('timeout after the provider acted');
    }
    return payment;
  }

  /** The body each refund key was first sent with: the same key with another body is refused, as the provider does. */
  readonly refundBodies = new Map<string, string>();
  /** The next refund is performed, but its answer is lost. */
  loseNextRefundAnswer = false;

  async refundPayment(request: { paymentId: string; reason?: string }, { idempotencyKey }: { idempotencyKey: string }): Promise<RefundResponse> {
    const payment = [...this.charges.values()].find((p) => p.paymentId === request.paymentId);
    if (!payment) throw new Error('no such payment');
    const body = JSON.stringify(request);
    if ((this.refundBodies.get(idempotencyKey) ?? body) !== body) {
      throw new InvalidPaymentRequestError('This Idempotency-Key was used with another request.', { status: 422 });
    }
    this.refundBodies.set(idempotencyKey, body);
    const refund = this.refunds.get(idempotencyKey) ?? {
      refundId: `re_${this.refunds.size + 1}`,
      paymentId: payment.paymentId,
      amount: payment.amount,
      currency: payment.currency,
      status: 'succeeded',
      createdAt: new Date(),
    };
    this.refunds.set(idempotencyKey, refund);
    if (this.loseNextRefundAnswer) {
      this.loseNextRefundAnswer = false;
      throw new PaymentOutcomeUnknownError('timeout after the provider refunded');
    }
    return refund;
  }

  async getPayment(paymentId: string) {
    return [...this.charges.values()].find((p) => p.paymentId === paymentId) ?? null;
  }

  /** The ledger as one page (the handlers never list it; the reconciliation does, against the real provider). */
  async listPayments() {
    return { items: [...this.charges.values()].reverse(), hasMore: false };
  }

  async listRefunds() {
    return { items: [...this.refunds.values()].reverse(), hasMore: false };
  }

  /** The next look-ups fail (provider unreachable). */
  findFails = false;

  async findPaymentsByOrder(orderId: string) {
    if (this.findFails) throw new Error('provider unreachable');
    return [...this.charges.values()].filter((p) => p.orderId === orderId);
  }
}

let pool: Pool;
let provider: ScriptedProvider;
let deps: { unitOfWork: UnitOfWork; payments: PaymentService; logger: typeof logger };
const kicks = { publishCommitted: () => undefined };

beforeAll(async () => {
  await migrate({ connectionString: DATABASE_URL, schema, dir: migrationDirs('payment-service'), logger });
  pool = createPool({ connectionString: DATABASE_URL, schema, max: 4, logger });
});

beforeEach(() => {
  provider = new ScriptedProvider();
  deps = { unitOfWork: new UnitOfWork(pool, kicks), payments: provider, logger };
});

afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
});

function reserved(orderId = randomUUID()): SagaEvent<'inventory.reserved'> {
  return newEvent(
    'inventory.reserved', 
    {
      order_id: orderId,
      customer_id: 'cus_h',
      items: [{ sku: 'MUG-LOGO', quantity: 1 }],
      total: '9.50',
      currency: 'USD',
      payment_source: 'tok_visa',
      shipping_address: ADDRESS,
    },
    { correlationId: orderId },
  );
}

function cancelOf(orderId: string) {
  return newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
}

async function outbox(orderId: string): Promise<string[]> {
  const { rows } = await pool.query(`SELECT routing_key FROM outbox WHERE envelope->'data'->>'order_id' = $1 ORDER BY created_at`, [orderId]);
  return rows.map((r) => r.routing_key as string);
}

async function row(orderId: string) {
  return (await pool.query('SELECT status, cancel_requested FROM payments WHERE order_id = $1', [orderId])).rows[0];
}

describe('payment-service handlers on Postgres', () => {
  it('when the charge answer is lost after the provider charged, then the payment is found by order and emitted once', async () => {
    const event = reserved();
    provider.loseNextChargeAnswer = true;
    await chargePayment(deps, event);
    expect(provider.chargeCalls).toBe(1);
    expect(await row(event.data.order_id)).toMatchObject({ status: 'charged' });
    expect(await outbox(event.data.order_id)).toEqual(['payment.succeeded']);
  });

  it('when the charge answer is lost and the provider did nothing, then the handler fails for a retry that uses the same key', async () => {
    const event = reserved();
    provider.dropNextCharge = true;
    await expect(chargePayment(deps, event)).rejects.toThrow(PaymentOutcomeUnknownError);
    expect(await row(event.data.order_id)).toMatchObject({ status: 'charging' });
    await chargePayment(deps, event);
    expect(provider.charges.size).toBe(1);
    expect(await outbox(event.data.order_id)).toEqual(['payment.succeeded']);
  });

  it('when the same event is handled twice, then the second handling charges nothing and emits nothing', async () => {
    const event = reserved();
    await chargePayment(deps, event);
    await chargePayment(deps, event);
    expect(provider.chargeCalls).toBe(1);
    expect(await outbox(event.data.order_id)).toEqual(['payment.succeeded']);
  });

  it('when a cancellation finds a charge of unknown outcome that never happened, then the row closes and a retry charges nothing', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    provider.dropNextCharge = true;
    await expect(chargePayment(deps, event)).rejects.toThrow(); // left 'charging'
    await refundPayment(deps, orderId, 'cancelled', cancelOf(orderId));
    expect(await row(orderId)).toMatchObject({ status: 'cancelled', cancel_requested: true });
    await chargePayment(deps, event); // the message's retry
    expect(provider.charges.size).toBe(0);
    expect(await outbox(orderId)).toEqual([]);
  });

  it('when a cancellation finds a charge of unknown outcome that did happen, then it is refunded', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    provider.loseNextChargeAnswer = true;
    provider.findFails = true; // the look-up after the lost answer fails too: the message would be retried
    await expect(chargePayment(deps, event)).rejects.toThrow();
    provider.findFails = false;
    await refundPayment(deps, orderId, 'cancelled', cancelOf(orderId));
    expect(await row(orderId)).toMatchObject({ status: 'refunded' });
    expect(provider.refunds.size).toBe(1);
    expect(await outbox(orderId)).toEqual(['payment.refunded']);
  });

  it('when the cancellation closes the row while the charge is still in flight and the charge lands, then the charge handler refunds it', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    let release!: () => void;
    provider.gate = new Promise((resolve) => (release = resolve));
    const charging = chargePayment(deps, event);
    await waitFor(async () => (await row(orderId))?.status === 'charging');
    await refundPayment(deps, orderId, 'cancelled', cancelOf(orderId)); // the provider has nothing yet
    expect(await row(orderId)).toMatchObject({ status: 'cancelled' });
    provider.gate = undefined;
    release();
    await charging;
    expect(await row(orderId)).toMatchObject({ status: 'refunded' });
    expect(provider.charges.size).toBe(1);
    expect(provider.refunds.size).toBe(1);
    expect(await outbox(orderId)).toEqual(['payment.refunded']);
  });

  it('when a cancellation arrives before any charge, then a later inventory.reserved charges nothing', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await refundPayment(deps, orderId, 'cancelled', cancel);
    await chargePayment(deps, event);
    expect(provider.chargeCalls).toBe(0);
    expect(await row(orderId)).toMatchObject({ status: 'cancelled' });
    expect(await outbox(orderId)).toEqual([]);
  });

  it('when shipping fails and the order is cancelled too, then exactly one refund is made and announced', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    await chargePayment(deps, event);
    const failed = newEvent('shipping.failed', { order_id: orderId, reason: 'unserviceable_destination', message: 'x' }, { correlationId: orderId });
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'deadline_exceeded' }, { correlationId: orderId });
    await Promise.all([refundPayment(deps, orderId, 'shipping_failed', failed), refundPayment(deps, orderId, 'cancelled', cancel)]);
    expect(provider.refunds.size).toBe(1);
    expect(await outbox(orderId)).toEqual(['payment.succeeded', 'payment.refunded']);
  });

  it('when a refund of unknown outcome is followed by a cancellation with another reason, then the same refund request is sent again and announced once', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    await chargePayment(deps, event);
    const failed = newEvent('shipping.failed', { order_id: orderId, reason: 'unserviceable_destination', message: 'x' }, { correlationId: orderId });
    provider.loseNextRefundAnswer = true;
    await expect(refundPayment(deps, orderId, 'shipping_failed', failed)).rejects.toThrow(PaymentOutcomeUnknownError);
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'deadline_exceeded' }, { correlationId: orderId });
    await refundPayment(deps, orderId, 'cancelled', cancel);
    expect(provider.refunds.size).toBe(1);
    expect(await row(orderId)).toMatchObject({ status: 'refunded' });
    const { rows } = await pool.query(`SELECT envelope->'data'->>'reason' AS reason FROM outbox WHERE routing_key = 'payment.refunded' AND envelope->'data'->>'order_id' = $1`, [orderId]);
    expect(rows).toEqual([{ reason: 'shipping_failed' }]);
  });
});
