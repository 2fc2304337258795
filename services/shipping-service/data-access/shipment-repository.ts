import type { PoolClient } from '../../../shared/db/pool.js';

export type ShipmentStatus = 'scheduled' | 'failed' | 'cancelled';

export interface Shipment {
  order_id: string;
  status: ShipmentStatus;
  shipment_id: string | null;
  carrier: string | null;
  tracking_number: string | null;
  destination_country: string | null;
  reason: string | null;
}

/** The order's shipment row (callers hold the order lock); null if none yet. */
export async function findShipment(client: PoolClient, orderId: string): Promise<Shipment | null> {
  const { rows } = await client.query<Shipment>(
    `SELECT order_id, status, shipment_id, carrier, tracking_number, destination_country, reason
     FROM shipments WHERE order_id = $1`,
    [orderId],
  );
  return rows[0] ?? null;
}

export async function insertShipment(client: PoolClient, shipment: Shipment): Promise<void> {
  await client.query(
    `INSERT INTO shipments (order_id, status, shipment_id, carrier, tracking_number, destination_country, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      shipment.order_id,
      shipment.status,
      shipment.shipment_id,
      shipment.carrier,
      shipment.tracking_number,
      shipment.destination_country,
      shipment.reason,
    ],
  );
}

export async function cancelShipment(client: PoolClient, orderId: string, reason: string): Promise<void> {
  await client.query(`UPDATE shipments SET status = 'cancelled', reason = $2, updated_at = now() WHERE order_id = $1`, [
    orderId,
    reason,
  ]);
}
