import type { Transaction, UnitOfWork } from '../../../shared/db/unit-of-work.js';
import { appendHistory, cancelOverdueOrders, findOrder, setStatus } from '../data-access/order-repository.js';
import { OrderNotCancellableError, OrderNotFoundError } from './order-errors.js';
import { UNOBSERVED, type OrderObserver } from './order-observer.js';

/**
 * A customer cancels before shipment: the order is cancelled at once and order.cancel_requested
 * tells every participant to undo what it did (each does so idempotently, and leaves a tombstone
 * if the step has not happened yet). A completed order has shipped: 409. Cancelling a cancelled
 * order changes nothing.
 */
export async function cancelOrder(
  unitOfWork: UnitOfWork,
  orderId: string,
  customerId?: string,
  observer: OrderObserver = UNOBSERVED,
): Promise<void> {
  await cancelOnRequest(unitOfWork, { orderId, ...(customerId !== undefined ? { customerId } : {}) }, observer);
}

/**
 * An admin cancels any customer's order, by the customer's rules (see {@link cancelOrder}); the
 * order's history keeps who asked (`requested_by`). Returns whether this request cancelled it
 * (false: it was cancelled already).
 */
export async function cancelOrderForAdmin(
  unitOfWork: UnitOfWork,
  request: { orderId: string; admin: string },
  observer: OrderObserver = UNOBSERVED,
): Promise<boolean> {
  return cancelOnRequest(unitOfWork, { orderId: request.orderId, requestedBy: request.admin }, observer);
}

async function cancelOnRequest(
  unitOfWork: UnitOfWork,
  request: { orderId: string; customerId?: string; requestedBy?: string },
  observer: OrderObserver,
): Promise<boolean> {
  const { orderId, customerId } = request;
  return unitOfWork.run(async (tx) => {
    const order = await findOrder(tx.client, orderId, true);
    if (!order || (customerId !== undefined && order.customer_id !== customerId)) {
      throw new OrderNotFoundError(`order ${orderId} not found`, { context: { order_id: orderId } });
    }
    if (order.status === 'completed') {
      throw new OrderNotCancellableError('the order has shipped and can no longer be cancelled', {
        context: { order_id: orderId },
      });
    }
    if (order.status === 'cancelled') return false;
    await setStatus(tx.client, orderId, { status: 'cancelled', cancellation_reason: 'customer_request' });
    await requestCompensation(tx, orderId, 'customer_request', request.requestedBy);
    tx.afterCommit(() => observer.ended({ status: 'cancelled', cancellation_reason: 'customer_request', created_at: order.created_at }));
    return true;
  });
}

/**
 * The deadline sweeper's pass: cancels open orders past their deadline, with compensations, in
 * batches. Safe with several sweepers at once (rows are claimed with SKIP LOCKED).
 */
export async function cancelOverdue(unitOfWork: UnitOfWork, batchSize = 100, observer: OrderObserver = UNOBSERVED): Promise<number> {
  return unitOfWork.run(async (tx) => {
    const overdue = await cancelOverdueOrders(tx.client, batchSize);
    for (const { id, created_at } of overdue) {
      await requestCompensation(tx, id, 'deadline_exceeded');
      tx.afterCommit(() => observer.ended({ status: 'cancelled', cancellation_reason: 'deadline_exceeded', created_at }));
    }
    return overdue.length;
  });
}

async function requestCompensation(tx: Transaction, orderId: string, reason: 'customer_request' | 'deadline_exceeded', requestedBy?: string) {
  const event = tx.emit('order.cancel_requested', { order_id: orderId, reason }, { correlationId: orderId });
  await appendHistory(tx.client, {
    order_id: orderId,
    event_id: event.id,
    event_type: event.type,
    occurred_at: event.occurred_at,
    detail: { reason, ...(requestedBy !== undefined ? { requested_by: requestedBy } : {}) },
  });
}
