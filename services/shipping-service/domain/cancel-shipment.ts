import type { SagaEvent } from '../../../shared/contracts/events.js';
import { findLocked } from '../../../shared/db/order-lock.js';
import type { Transaction } from '../../../shared/db/unit-of-work.js';
import { cancelShipment as markCancelled, findShipment, insertShipment } from '../data-access/shipment-repository.js';

/**
 * order.cancel_requested → cancel a scheduled shipment; with none yet, leave a tombstone so that a
 * late payment.succeeded does not schedule one. Payment refunds and inventory releases on the same
 * event by themselves, so nothing is emitted here.
 */
export async function cancelShipment(tx: Transaction, event: SagaEvent<'order.cancel_requested'>): Promise<void> {
  const orderId = event.data.order_id;
  const shipment = await findLocked(tx.client, orderId, findShipment);
  if (!shipment) {
    await insertShipment(tx.client, {
      order_id: orderId,
      status: 'cancelled',
      shipment_id: null,
      carrier: null,
      tracking_number: null,
      destination_country: null,
      reason: event.data.reason,
    });
    return;
  }
  if (shipment.status === 'scheduled') await markCancelled(tx.client, orderId, event.data.reason);
}
