import { randomBytes, randomUUID } from 'node:crypto';
import { type SagaEvent } from '../../../shared/contracts/events.js';
import { findLocked } from '../../../shared/db/order-lock.js';
import type { Transaction } from '../../../shared/db/unit-of-work.js';
import { findShipment, insertShipment } from '../data-access/shipment-repository.js';

export interface ShippingPolicy {
  carrier: string;
  unserviceableCountries: ReadonlySet<string>;
}

/**
 * payment.succeeded → schedule the shipment, or fail it when the carrier does not serve the
 * destination (which starts the refund path). An order already seen (a shipment, or a
 * cancellation tombstone) is left as it is.
 */
export async function scheduleShipment(
  tx: Transaction,
  event: SagaEvent<'payment.succeeded'>,
  policy: ShippingPolicy,
): Promise<void> {
  const { order_id: orderId, shipping_address: address } = event.data;
  if (await findLocked(tx.client, orderId, findShipment)) return;
  const meta = { correlationId: orderId, causationId: event.id };

  if (policy.unserviceableCountries.has(address.country)) {
    const message = `carrier ${policy.carrier} does not deliver to ${address.country}`;
    await insertShipment(tx.client, {
      order_id: orderId,
      status: 'failed',
      shipment_id: null,
      carrier: policy.carrier,
      tracking_number: null,
      destination_country: address.country,
      reason: 'unserviceable_destination',
    });
    tx.emit('shipping.failed', { order_id: orderId, reason: 'unserviceable_destination', message }, meta);
    return;
  }
  const shipmentId = randomUUID();
  const trackingNumber = `TRK${randomBytes(6).toString('hex').toUpperCase()}`;
  await insertShipment(tx.client, {
    order_id: orderId,
    status: 'scheduled',
    shipment_id: shipmentId,
    carrier: policy.carrier,
    tracking_number: trackingNumber,
    destination_country: address.country,
    reason: null,
  });
  tx.emit('shipping.scheduled', { order_id: orderId, shipment_id: shipmentId, carrier: policy.carrier, tracking_number: trackingNumber }, meta);
}
