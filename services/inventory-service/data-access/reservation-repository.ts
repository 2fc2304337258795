import type { PoolClient } from '../../../shared/db/pool.js';
import type { StockLine } from './stock-repository.js';

export type ReservationStatus = 'reserved' | 'released' | 'rejected' | 'cancelled';

export interface Reservation {
  order_id: string;
  status: ReservationStatus;
  items: StockLine[];
}

/** The order's reservation (callers hold the order lock); null if none yet. */
export async function findReservation(client: PoolClient, orderId: string): Promise<Reservation | null> {
  const { rows } = await client.query<Reservation>(
    'SELECT order_id, status, items FROM reservations WHERE order_id = $1',
    [orderId],
  );
  return rows[0] ?? null;
}

/** Inserts the order's reservation row (callers hold the order lock and found none). */
export async function insertReservation(client: PoolClient, reservation: Reservation & { reason?: string }): Promise<void> {
  await client.query('INSERT INTO reservations (order_id, status, items, reason) VALUES ($1, $2, $3, $4)', [
    reservation.order_id,
    reservation.status,
    JSON.stringify(reservation.items),
    reservation.reason ?? null,
  ]);
}

export async function setReservationStatus(
  client: PoolClient,
  orderId: string,
  status: ReservationStatus,
  reason: string,
): Promise<void> {
  await client.query('UPDATE reservations SET status = $2, reason = $3, updated_at = now() WHERE order_id = $1', [
    orderId,
    status,
    reason,
  ]);
}
