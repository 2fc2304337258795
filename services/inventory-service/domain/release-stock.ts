import { type EventData, type SagaEvent } from '../../../shared/contracts/events.js';
import { findLocked } from '../../../shared/db/order-lock.js';
import type { Transaction } from '../../../shared/db/unit-of-work.js';
import { findReservation, insertReservation, setReservationStatus } from '../data-access/reservation-repository.js';
import { adjustStock } from '../data-access/stock-repository.js';

type ReleaseReason = EventData<'inventory.released'>['reason'];
type ReleaseTrigger = SagaEvent<'payment.failed' | 'payment.refunded' | 'order.cancel_requested'>;

/**
 * Compensation: gives the order's reserved stock back (payment failed, payment refunded, order
 * cancelled) and emits inventory.released. Idempotent by state: a reservation already released is
 * not released again. When no reservation exists yet (the compensation overtook the step it undoes)
 * a tombstone is written, so a late order.created does not reserve.
 */
export async function releaseStock(tx: Transaction, event: ReleaseTrigger, reason: ReleaseReason): Promise<void> {
  const orderId = event.data.order_id;
  const reservation = await findLocked(tx.client, orderId, findReservation);
  if (!reservation) {
    await insertReservation(tx.client, { order_id: orderId, status: 'cancelled', items: [], reason });
    return;
  }
  if (reservation.status !== 'reserved') return;
  await adjustStock(tx.client, reservation.items, 1);
  await setReservationStatus(tx.client, orderId, 'released', reason);
  tx.emit('inventory.released', { order_id: orderId, items: reservation.items, reason }, { correlationId: orderId, causationId: event.id });
}
