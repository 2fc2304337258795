import { randomUUID } from 'node:crypto';
import type { ShippingAddress } from '../../../shared/contracts/common-schemas.js';
import { fromMinorUnits, normaliseAmount, toMinorUnits, type Currency } from '../../../shared/contracts/money.js';
import type { UnitOfWork } from '../../../shared/db/unit-of-work.js';
import type { CatalogLookup } from '../data-access/catalog-prices.js';
import { appendHistory, insertOrder, type HistoryRow, type OrderLineRow, type OrderRow } from '../data-access/order-repository.js';
import { IdempotencyKeyReusedError, OrderRejectedError } from './order-errors.js';

export interface PlaceOrderCommand {
  customerId: string;
  items: { sku: string; quantity: number }[];
  currency: Currency;
  paymentSource: string;
  shippingAddress: ShippingAddress;
  /** SHA-256 hashes of the client's Idempotency-Key and of its request: one order per key. */
  idempotency?: { keyHash: string; requestHash: string };
}

/** A new order comes back as written (row, lines, first history entry), so it need not be read again. */
export type PlaceOrderResult =
  | { orderId: string; created: true; order: OrderRow; lines: OrderLineRow[]; history: HistoryRow[] }
  | { orderId: string; created: false };

/**
 * Accepts an order: prices every line from the catalog (never from the client), then writes the
 * order, its lines, its first history entry and order.created in one transaction (outbox), so an
 * accepted order always starts its saga. An order this customer already placed under the same
 * idempotency key is returned instead (`created: false`), nothing written; the same key with
 * another request → IdempotencyKeyReusedError. The key thus travels with the saga as the order
 * id, from which the provider charge's own idempotency key is derived.
 */
export async function placeOrder(
  unitOfWork: UnitOfWork,
  catalog: CatalogLookup,
  command: PlaceOrderCommand,
  sagaTimeoutMs: number,
): Promise<PlaceOrderResult> {
  const orderId = randomUUID();
  // A refusal is returned by the unit, not thrown: it has written nothing, and a unit that throws
  // makes the batch it shares with other requests run again one by one (UnitOfWork).
  const placed = await unitOfWork.run(async (tx): Promise<PlaceOrderResult | { refused: Error }> => {
    // The orders placed together in this transaction look their prices up in one query (CatalogPrices).
    const skus = [...new Set(command.items.map((item) => item.sku))];
    const prices = await catalog.prices(tx, skus, command.currency);
    const unpriced = skus.filter((sku) => !prices.has(sku));
    if (unpriced.length > 0) return { refused: unpricedError(unpriced, command.currency, await catalog.knownSkus(tx, unpriced)) };

    const lines: OrderLineRow[] = command.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      unit_price: normaliseAmount(prices.get(item.sku) as string, command.currency),
    }));
    const totalMinor = lines.reduce(
      (sum, line) => sum + toMinorUnits(line.unit_price, command.currency) * BigInt(line.quantity),
      0n,
    );
    const total = fromMinorUnits(totalMinor, command.currency);
    const insert = await insertOrder(tx.client, {
      id: orderId,
      customer_id: command.customerId,
      currency: command.currency,
      total,
      shipping_address: command.shippingAddress,
      lines,
      deadline_ms: sagaTimeoutMs,
      ...(command.idempotency ? { idempotency: command.idempotency } : {}),
    });
    if (!insert.inserted) {
      if (insert.requestHash !== command.idempotency?.requestHash) {
        return { refused: new IdempotencyKeyReusedError('this Idempotency-Key already placed an order with another request') };
      }
      return { orderId: insert.existingId, created: false };
    }
    const event = tx.emit(
      'order.created',
      {
        order_id: orderId,
        customer_id: command.customerId,
        items: lines,
        total,
        currency: command.currency,
        payment_source: command.paymentSource,
        shipping_address: command.shippingAddress,
      },
      { correlationId: orderId },
    );
    const detail = { total, currency: command.currency };
    const recordedAt = await appendHistory(tx.client, {
      order_id: orderId,
      event_id: event.id,
      event_type: event.type,
      occurred_at: event.occurred_at,
      detail,
    });
    return {
      orderId,
      created: true,
      order: {
        id: orderId,
        customer_id: command.customerId,
        status: 'pending',
        cancellation_reason: null,
        currency: command.currency,
        total,
        shipping_address: command.shippingAddress,
        created_at: insert.created_at,
        updated_at: insert.updated_at,
      },
      lines,
      // The event id is new, so its history entry was inserted (recorded_at is set).
      history: [{ event_id: event.id, event_type: event.type, detail, occurred_at: new Date(event.occurred_at), recorded_at: recordedAt! }],
    };
    // Requests under one Idempotency-Key share a lane: they never wait for each other across two batches.
  }, command.idempotency?.keyHash ?? orderId);
  if ('refused' in placed) throw placed.refused;
  return placed;
}

function unpricedError(skus: string[], currency: string, known: Set<string>): OrderRejectedError {
  const unknown = skus.filter((sku) => !known.has(sku));
  return unknown.length > 0
    ? new OrderRejectedError('unknown_sku', `unknown SKU: ${unknown.join(', ')}`, { skus: unknown })
    : new OrderRejectedError('currency_not_offered', `not sold in ${currency}: ${skus.join(', ')}`, { skus, currency });
}
