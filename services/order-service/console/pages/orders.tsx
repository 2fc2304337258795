import { useState } from 'preact/hooks';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { time } from '../format.js';
import { StatusBadge } from '../status-badge.js';

export interface OrderSummary {
  id: string;
  customer_id: string;
  status: string;
  cancellation_reason: string | null;
  total: string;
  currency: string;
  created_at: string;
  updated_at: string;
}

interface OrderPage {
  data: OrderSummary[];
  next_cursor: string | null;
}

const STATUSES = ['pending', 'reserved', 'paid', 'compensating', 'completed', 'cancelled'];
const FILTERS = ['q', 'status', 'cancellation_reason', 'created_after', 'created_before'] as const;

/** `datetime-local` values are local times without a zone; the API takes ISO instants. */
const toInstant = (local: string) => (local ? new Date(local).toISOString() : '');

/**
 * Orders: one search box (an order id or a customer id) and filters (status, cancellation reason,
 * time range), kept in the location so that a search can be shared; the page of results stays
 * current by itself.
 */
export function Orders({ query }: { query: URLSearchParams }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value) params.set(name, name.startsWith('created_') ? toInstant(value) : value);
  }
  params.set('limit', '20');
  const cursor = cursors.at(-1);
  if (cursor) params.set('cursor', cursor);
  const page = useLive<OrderPage>(`/admin/orders?${params}`);

  const search = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = String(form.get(name) ?? '').trim();
      if (value) next.set(name, value);
    }
    setCursors([]);
    location.hash = href.orders(next);
  };

  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">Orders</h1>
      <form class="search" role="search" onSubmit={search}>
        <label for="q">Search orders</label>
        <input id="q" name="q" type="search" placeholder="an order id or a customer id" value={query.get('q') ?? ''} />
        <div class="filters">
          <label>
            Status
            <select name="status" value={query.get('status') ?? ''}>
              <option value="">any</option>
              {STATUSES.map((status) => (
                <option value={status}>{status}</option>
              ))}
            </select>
          </label>
          <label>
            Cancellation reason
            <input name="cancellation_reason" placeholder="e.g. payment_failed" value={query.get('cancellation_reason') ?? ''} />
          </label>
          <label>
            Placed after
            <input name="created_after" type="datetime-local" value={query.get('created_after') ?? ''} />
          </label>
          <label>
            Placed before
            <input name="created_before" type="datetime-local" value={query.get('created_before') ?? ''} />
          </label>
        </div>
        <button type="submit">Search</button>
      </form>
      {page.error && (
        <p class="error" role="alert">
          {page.error.message}
        </p>
      )}
      {page.data && page.data.data.length === 0 && <p>No order matches.</p>}
      {page.data && page.data.data.length > 0 && (
        <div class="scroll">
          <table class="orders">
            <caption class="visually-hidden">Orders, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Customer</th>
                <th scope="col">Status</th>
                <th scope="col" class="number">Total</th>
                <th scope="col">Placed</th>
              </tr>
            </thead>
            <tbody>
              {page.data.data.map((order) => (
                <tr>
                  <td>
                    <a href={href.order(order.id)} class="mono">
                      {order.id}
                    </a>
                  </td>
                  <td class="mono">{order.customer_id}</td>
                  <td>
                    <StatusBadge status={order.status} reason={order.cancellation_reason} />
                  </td>
                  <td class="number">
                    {order.total} {order.currency}
                  </td>
                  <td>{time(order.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages of orders">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page.data?.next_cursor} onClick={() => page.data?.next_cursor && setCursors([...cursors, page.data.next_cursor])}>
          Next page
        </button>
      </nav>
    </section>
  );
}
