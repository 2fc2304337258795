import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.js';
import { duration, time } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { StatusBadge } from '../status-badge.js';
import type { OrderSummary } from './orders.js';

interface TimelineEntry {
  event_id: string;
  event_type: string;
  service: string;
  role: 'start' | 'step' | 'compensation';
  occurred_at: string;
  recorded_at: string;
  duration_ms: number;
  detail: Record<string, unknown>;
}

interface Timeline {
  order: OrderSummary & { items: { sku: string; quantity: number; unit_price: string }[] };
  entries: TimelineEntry[];
  ahead: { event_type: string; service: string; role: string }[];
  retries: { service: string; event_id: string; event_type: string; attempt: number; error: string; retried_at: string }[];
  dead_letters: { id: string; service: string; event_type: string | null; reason: string; error: string | null; dead_lettered_at: string; replay_count: number }[];
  payment: { payment_id: string; amount: string; currency: string; refunded: boolean; refund_id: string | null } | null;
  shipment: { tracking_number: string; carrier: string } | null;
}

const OPEN = ['pending', 'reserved', 'paid'];

/** The detail of a history entry, as short `key: value` pairs. */
function details(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([, value]) => value !== null && typeof value !== 'object')
    .map(([key, value]) => `${key.replace(/_/g, ' ')}: ${String(value)}`)
    .join(' · ');
}

/**
 * One order: its saga as a timeline (every step and compensation with its time and how long it took
 * since the one before, the steps still ahead while it runs), its dead letters, payment, refund and
 * shipment; and a cancel with a confirmation. It follows the order live.
 */
export function Order({ id }: { id: string }) {
  const timeline = useLive<Timeline>(`/admin/orders/${encodeURIComponent(id)}/timeline`);
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const cancel = async () => {
    setConfirming(false);
    try {
      await post(`/admin/orders/${encodeURIComponent(id)}/cancel`);
      setOutcome('Cancellation requested: the saga is undoing what was done.');
    } catch (error) {
      setOutcome(error instanceof ApiError ? `Not cancelled: ${error.message}` : 'Not cancelled.');
    }
    timeline.refresh();
  };

  if (timeline.error) {
    return (
      <section>
        <h1>Order</h1>
        <p class="error" role="alert">
          {timeline.error.status === 404 ? `No order ${id}.` : timeline.error.message}
        </p>
        <a href={href.orders()}>Back to orders</a>
      </section>
    );
  }
  const data = timeline.data;
  if (!data) return <p aria-busy="true">Loading order {id}…</p>;
  const { order } = data;
  return (
    <section aria-labelledby="order-title">
      <h1 id="order-title">
        Order <span class="mono">{order.id}</span>
      </h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={order.status} reason={order.cancellation_reason} />
        </dd>
        <dt>Customer</dt>
        <dd>
          <a href={href.orders(new URLSearchParams({ q: order.customer_id }))} class="mono">
            {order.customer_id}
          </a>
        </dd>
        <dt>Total</dt>
        <dd>
          {order.total} {order.currency}
        </dd>
        <dt>Placed</dt>
        <dd>{time(order.created_at)}</dd>
        <dt>Payment</dt>
        <dd class="mono">{data.payment ? `${data.payment.payment_id}${data.payment.refunded ? ` · refunded (${data.payment.refund_id ?? 'refund'})` : ''}` : '—'}</dd>
        <dt>Shipment</dt>
        <dd class="mono">{data.shipment ? `${data.shipment.carrier} · tracking ${data.shipment.tracking_number}` : '—'}</dd>
      </dl>

      {OPEN.includes(order.status) && !confirming && (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Cancel order
        </button>
      )}
      {confirming && (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
          <p id="confirm-text">Cancel this order? Its stock is released and a charge refunded.</p>
          <button type="button" class="danger" onClick={cancel}>
            Yes, cancel it
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
      {outcome && <p role="status">{outcome}</p>}

      <h2>Saga</h2>
      <ol class="timeline" aria-label="Saga timeline">
        {data.entries.map((entry) => (
          <li class={`entry entry-${entry.role}`}>
            <span class="what">{entry.event_type}</span>
            <span class="who">{entry.service}</span>
            <span class="role">{entry.role}</span>
            <time dateTime={entry.occurred_at}>{time(entry.occurred_at)}</time>
            <span class="took">+{duration(entry.duration_ms)}</span>
            {details(entry.detail) && <span class="detail">{details(entry.detail)}</span>}
          </li>
        ))}
        {data.ahead.map((step) => (
          <li class="entry entry-ahead">
            <span class="what">{step.event_type}</span>
            <span class="who">{step.service}</span>
            <span class="role">ahead</span>
          </li>
        ))}
      </ol>

      <h2>Retries</h2>
      {data.retries.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="letters" aria-label="Retries">
          {data.retries.map((retry) => (
            <li>
              {retry.service} retried {retry.event_type} (retry {retry.attempt}) · {time(retry.retried_at)} · <span class="help">{retry.error}</span>
            </li>
          ))}
        </ul>
      )}

      <h2>Dead letters</h2>
      {data.dead_letters.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="letters">
          {data.dead_letters.map((letter) => (
            <li>
              <a class="mono" href={href.deadLetter(letter.id)}>
                {letter.id}
              </a>{' '}
              · {letter.service} · {letter.event_type ?? 'unknown event'} · {letter.reason} · {time(letter.dead_lettered_at)}
              {letter.replay_count > 0 ? ` · replayed ${letter.replay_count}×` : ''}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
