import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/contracts/envelope.js';
import { EVENT_VERSION, type SagaEvent } from '../../shared/contracts/events.js';
import { migrate, migrationDirs } from '../../shared/db/migrate.js';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { UnitOfWork } from '../../shared/db/unit-of-work.js';
import { PaymentOutcomeUnknownError } from '../../services/payment-service/data-access/payment-provider/payment-errors.js';
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

  async processPayment(request: PaymentRequest, { idempotencyKey }: { idempotencyKey: string }): Promise<PaymentResponse> {
    this.chargeCalls += 1;
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

  async refundPayment(request: { paymentId: string }, { idempotencyKey }: { idempotencyKey: string }): Promise<RefundResponse> {
    const payment = [...this.charges.values()].find((p) => p.paymentId === request.paymentId);
    if (!payment) throw new Error('no such payment');
    const refund = this.refunds.get(idempotencyKey) ?? {
      refundId: `re_${this.refunds.size + 1}`,
      paymentId: payment.paymentId,
      amount: payment.amount,
      currency: payment.currency,
      status: 'succeeded',
      createdAt: new Date(),
    };
    this.refunds.set(idempotencyKey, refund);
    return refund;
  }

  async getPayment(paymentId: string) {
    return [...this.charges.values()].find((p) => p.paymentId === paymentId) ?? null;
  }

  async findPaymentsByOrder(orderId: string) {
    return [...this.charges.values()].filter((p) => p.orderId === orderId);
  }
}

let pool: Pool;
let provider: ScriptedProvider;
let deps: { unitOfWork: UnitOfWork; payments: PaymentService; logger: typeof logger };
const kicks = { kick: () => undefined };

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
  return newEnvelope(
    'inventory.reserved',
    EVENT_VERSION,
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

  it('when a cancellation arrives while the charge is in flight, then the settled charge is refunded instead of moving on', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    provider.dropNextCharge = true;
    await expect(chargePayment(deps, event)).rejects.toThrow(); // left 'charging'
    const cancel = newEnvelope('order.cancel_requested', EVENT_VERSION, { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await refundPayment(deps, orderId, 'cancelled', cancel);
    expect(await row(orderId)).toMatchObject({ status: 'charging', cancel_requested: true });
    await chargePayment(deps, event); // the retry settles the charge, then refunds it
    expect(await row(orderId)).toMatchObject({ status: 'refunded' });
    expect(provider.refunds.size).toBe(1);
    expect(await outbox(orderId)).toEqual(['payment.refunded']);
  });

  it('when a cancellation arrives before any charge, then a later inventory.reserved charges nothing', async () => {
    const event = reserved();
    const orderId = event.data.order_id;
    const cancel = newEnvelope('order.cancel_requested', EVENT_VERSION, { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
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
    const failed = newEnvelope('shipping.failed', EVENT_VERSION, { order_id: orderId, reason: 'unserviceable_destination', message: 'x' }, { correlationId: orderId });
    const cancel = newEnvelope('order.cancel_requested', EVENT_VERSION, { order_id: orderId, reason: 'deadline_exceeded' }, { correlationId: orderId });
    await Promise.all([refundPayment(deps, orderId, 'shipping_failed', failed), refundPayment(deps, orderId, 'cancelled', cancel)]);
    expect(provider.refunds.size).toBe(1);
    expect(await outbox(orderId)).toEqual(['payment.succeeded', 'payment.refunded']);
  });
});
