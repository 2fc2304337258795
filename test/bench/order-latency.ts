/**
 * Order-to-completed latency over N sequential orders against a running system (`npm start`, or
 * compose): `npm run bench:latency -- [count]`. Prints p50/p99 measured two ways: server-side
 * (order created_at → shipping.scheduled recorded_at, from the order's history) and as a client
 * sees it (POST → first GET showing `completed`, polled every 2 ms).
 */
import { randomUUID } from 'node:crypto';
import { authHeader } from '../support/tokens.js';

const api = process.env.ORDER_API_URL ?? 'http://127.0.0.1:3000';
const count = Number(process.argv[2] ?? 100);

interface Order {
  id: string;
  status: string;
  created_at: string;
  history: { type: string; recorded_at: string }[];
}

const body = JSON.stringify({
  items: [{ sku: 'STICKER-PACK', quantity: 1 }],
  currency: 'USD',
  payment_source: 'tok_visa',
  shipping_address: { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postal_code: '127', country: 'US' },
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const auth = await authHeader('bench');
const server: number[] = [];
const client: number[] = [];
for (let i = 0; i < count; i += 1) {
  const started = performance.now();
  const response = await fetch(`${api}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...auth }, body });
  if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
  const { id } = (await response.json()) as Order;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const order = (await (await fetch(`${api}/orders/${id}`, { headers: auth })).json()) as Order;
    if (order.status === 'completed') {
      client.push(performance.now() - started);
      const shipped = order.history.find((h) => h.type === 'shipping.scheduled');
      if (shipped) server.push(Date.parse(shipped.recorded_at) - Date.parse(order.created_at));
      break;
    }
    if (order.status === 'cancelled') throw new Error(`order ${id} was cancelled`);
    if (Date.now() > deadline) throw new Error(`order ${id} did not complete in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
for (const [name, values] of [['server-side', server], ['client-observed', client]] as const) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `${name}: n=${sorted.length} p50=${percentile(sorted, 50).toFixed(1)} ms p99=${percentile(sorted, 99).toFixed(1)} ms max=${sorted.at(-1)?.toFixed(1)} ms`,
  );
}
