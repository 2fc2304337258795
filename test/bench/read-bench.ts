/**
 * `npm run bench:read`: the read path's figures, every service its own process (compiled, as the
 * image runs them), printed and written to test/bench/results/read-path.md.
 *
 * 1. `GET /products` and `GET /orders/:id` (orders that ended) in a closed loop, requests/s and
 *    CPU, with the read cache and then, on a second stack started the same way, without it
 *    (CACHE_*_TTL_MS=0): the ratio of the two, measured back to back.
 * 2. What a client that waits for its order's end costs the server: one that asks
 *    `GET /orders/:id?wait=30` with its ETag against one that polls every 100 ms, for the same
 *    orders at the same rate (the provider made to answer charges in 1 s, as a real one might, so
 *    that a saga lasts long enough to be polled): requests per order, the server's CPU per order
 *    beyond a run with nobody watching, and how long after the order ended the client knew.
 *
 * Settings: BENCH_READ_MS (each closed loop, default 10 000), BENCH_READ_CONCURRENCY (32),
 * BENCH_WATCH_ORDERS (orders per watching phase, 60), BENCH_WATCH_RATE (orders/s, 10).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ProcessStack } from '../support/process-stack.js';
import { authHeader } from '../support/tokens.js';
import { HttpClient } from './http-client.js';
import { closedLoop, type LoadResult } from './http-load.js';
import { CpuSampler, pidsNamed } from './process-usage.js';
import { summarize, type LatencySummary } from './stats.js';

const env = process.env;
const READ_MS = Number(env.BENCH_READ_MS ?? 10_000);
const CONCURRENCY = Number(env.BENCH_READ_CONCURRENCY ?? 32);
const WATCH_ORDERS = Number(env.BENCH_WATCH_ORDERS ?? 60);
const WATCH_RATE = Number(env.BENCH_WATCH_RATE ?? 10);
const PROVIDER_LATENCY_MS = 1_000;
const POLL_MS = 100;
const ADDRESS = { name: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', postal_code: 'N1 9GU', country: 'GB' };
const root = path.resolve(import.meta.dirname, '..', '..');
const log = (line: string) => process.stderr.write(`[bench:read] ${line}\n`);

interface ReadFigures {
  products: LoadResult;
  order: LoadResult;
  cpu: { products: Record<string, number>; order: Record<string, number> };
}

interface WatchFigures {
  mode: 'nobody' | 'poll' | 'wait';
  orders: number;
  requests: number;
  requestsPerOrder: number;
  /** Server CPU (order-service, Postgres, Redis) per order, ms. */
  cpuMsPerOrder: number;
  /** From the order's last change in Postgres to the client holding it. */
  noticedAfterMs: LatencySummary | null;
}

log('building dist/');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

const STACK_ENV = { RATE_LIMIT_CUSTOMER: '100000000', LOG_LEVEL: 'warn' };
const cached = await withStack({}, async (stack) => ({ reads: await reads(stack), watching: await watching(stack) }));
const uncached = await withStack({ CACHE_PRODUCTS_TTL_MS: '0', CACHE_ORDERS_TTL_MS: '0' }, (stack) => reads(stack));
report(cached.reads, uncached, cached.watching);

async function withStack<T>(extra: Record<string, string>, run: (stack: ProcessStack) => Promise<T>): Promise<T> {
  const stack = await ProcessStack.start({ ...STACK_ENV, ...extra }, { compiled: true });
  try {
    await stack.db.query(`UPDATE ${stack.table('inventory-service', 'stock')} SET available = 100000000`);
    await stack.db.query(`UPDATE ${stack.table('order-service', 'product_stock')} SET available = 100000000`);
    return await run(stack);
  } finally {
    await stack.stop();
  }
}

function serverCpu(stack: ProcessStack): CpuSampler {
  return new CpuSampler(() => ({
    'order-service': [stack.pid('order-service') ?? -1],
    postgres: pidsNamed('postgres'),
    redis: pidsNamed('redis-server'),
  }));
}

/** Places `n` orders as `customer` and waits for each to end. */
async function endedOrders(stack: ProcessStack, customer: string, n: number): Promise<string[]> {
  const headers = await authHeader(customer);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const response = await fetch(`${stack.orderApi}/orders`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: [{ sku: 'MUG-LOGO', quantity: 1 }], currency: 'USD', payment_source: 'tok_visa', shipping_address: ADDRESS }),
    });
    ids.push(((await response.json()) as { id: string }).id);
  }
  for (const id of ids) await until(stack, id, ['completed', 'cancelled']);
  return ids;
}

async function until(stack: ProcessStack, id: string, statuses: string[]): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { rows } = await stack.db.query<{ status: string }>(`SELECT status FROM ${stack.table('order-service', 'orders')} WHERE id = $1`, [id]);
    if (statuses.includes(rows[0]?.status ?? '')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`order ${id} did not end`);
}

async function reads(stack: ProcessStack): Promise<ReadFigures> {
  const customer = 'bench_reader';
  const ids = await endedOrders(stack, customer, 50);
  const headers = await authHeader(customer);
  const client = new HttpClient(CONCURRENCY);
  const get = (url: () => string) => async () => {
    const reply = await client.send({ url: url(), method: 'GET', headers: () => headers });
    return reply.status === 200;
  };
  const cpu = serverCpu(stack);
  try {
    // Warm-up: connections opened, code paths compiled, cache filled where there is one.
    await closedLoop(CONCURRENCY, 1_000, get(() => `${stack.orderApi}/products`));
    cpu.start();
    const products = await closedLoop(CONCURRENCY, READ_MS, get(() => `${stack.orderApi}/products`));
    const productsCpu = cpu.stop();
    const anyOrder = () => `${stack.orderApi}/orders/${ids[Math.floor(Math.random() * ids.length)]}`;
    await closedLoop(CONCURRENCY, 1_000, get(anyOrder));
    cpu.start();
    const order = await closedLoop(CONCURRENCY, READ_MS, get(anyOrder));
    const orderCpu = cpu.stop();
    log(`GET /products ${products.requestsPerSecond.toFixed(0)}/s, GET /orders/:id ${order.requestsPerSecond.toFixed(0)}/s`);
    return { products, order, cpu: { products: productsCpu, order: orderCpu } };
  } finally {
    client.close();
  }
}

async function watching(stack: ProcessStack): Promise<WatchFigures[]> {
  await stack.setProviderFaults({ latency_ms: PROVIDER_LATENCY_MS, match: 'payments' });
  const results: WatchFigures[] = [];
  for (const mode of ['nobody', 'poll', 'wait'] as const) results.push(await watchPhase(stack, mode));
  await stack.setProviderFaults({});
  return results;
}

/** WATCH_ORDERS orders placed at WATCH_RATE/s, each followed to its end by a client in `mode`. */
async function watchPhase(stack: ProcessStack, mode: WatchFigures['mode']): Promise<WatchFigures> {
  const customer = `bench_watch_${mode}`;
  const headers = await authHeader(customer);
  const client = new HttpClient(256);
  let requests = 0;
  const noticed: number[] = [];
  const get = (id: string, extra: Record<string, string>, query = '') => {
    requests += 1;
    return client.send({ url: `${stack.orderApi}/orders/${id}${query}`, method: 'GET', headers: () => ({ ...headers, ...extra }) });
  };
  const endedAt = async (id: string) => {
    const { rows } = await stack.db.query<{ at: Date }>(`SELECT updated_at AS at FROM ${stack.table('order-service', 'orders')} WHERE id = $1`, [id]);
    return rows[0]!.at.getTime();
  };
  const isEnded = (body: string) => /"status":"(completed|cancelled)"/.test(body);

  const follow = async (id: string) => {
    if (mode === 'poll') {
      for (;;) {
        const reply = await get(id, {});
        if (isEnded(reply.body)) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } else {
      let etag = '';
      for (;;) {
        const reply = await get(id, etag ? { 'if-none-match': etag } : {}, '?wait=30');
        if (reply.status === 200) {
          etag = String(reply.headers.etag ?? '');
          if (isEnded(reply.body)) break;
        }
      }
    }
    noticed.push(Date.now() - (await endedAt(id)));
  };

  const cpu = serverCpu(stack);
  cpu.start();
  const started = performance.now();
  const followers: Promise<void>[] = [];
  const placed: string[] = [];
  for (let i = 0; i < WATCH_ORDERS; i++) {
    const due = started + (i * 1000) / WATCH_RATE;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    const response = await fetch(`${stack.orderApi}/orders`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: [{ sku: 'MUG-LOGO', quantity: 1 }], currency: 'USD', payment_source: 'tok_visa', shipping_address: ADDRESS }),
    });
    const { id } = (await response.json()) as { id: string };
    placed.push(id);
    if (mode !== 'nobody') followers.push(follow(id));
  }
  await Promise.all(followers);
  // Nobody watching: the bench alone checks, every 250 ms, one query for all of them.
  while (mode === 'nobody') {
    const { rows } = await stack.db.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM ${stack.table('order-service', 'orders')} WHERE id = ANY($1::uuid[]) AND status NOT IN ('completed', 'cancelled')`,
      [placed],
    );
    if (rows[0]!.open === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = (performance.now() - started) / 1000;
  const shares = cpu.stop();
  client.close();
  const cpuMs = Object.values(shares).reduce((a, b) => a + b, 0) * 10 * seconds; // % of a core → ms
  const figures: WatchFigures = {
    mode,
    orders: WATCH_ORDERS,
    requests,
    requestsPerOrder: requests / WATCH_ORDERS,
    cpuMsPerOrder: cpuMs / WATCH_ORDERS,
    noticedAfterMs: mode === 'nobody' ? null : summarize(noticed),
  };
  log(`${mode}: ${figures.requestsPerOrder.toFixed(1)} requests/order, ${figures.cpuMsPerOrder.toFixed(1)} ms CPU/order`);
  return figures;
}

function report(on: ReadFigures, off: ReadFigures, watch: WatchFigures[]): void {
  const rps = (r: LoadResult) => r.requestsPerSecond.toFixed(0);
  const ratio = (a: LoadResult, b: LoadResult) => (a.requestsPerSecond / b.requestsPerSecond).toFixed(2);
  const cpu = (shares: Record<string, number>) => Object.entries(shares).map(([name, share]) => `${name} ${share} %`).join(', ');
  const nobody = watch.find((w) => w.mode === 'nobody')!;
  const lines = [
    `# Read path (${new Date().toISOString()})`,
    '',
    `Closed loop, ${CONCURRENCY} clients, ${READ_MS / 1000} s each; every service its own process. CPU in % of one core.`,
    '',
    '| read | with the cache (req/s) | without (req/s) | ratio | p99 with / without (ms) | CPU with | CPU without |',
    '|---|---|---|---|---|---|---|',
    `| GET /products | ${rps(on.products)} | ${rps(off.products)} | ${ratio(on.products, off.products)}× | ${on.products.latencyMs.p99} / ${off.products.latencyMs.p99} | ${cpu(on.cpu.products)} | ${cpu(off.cpu.products)} |`,
    `| GET /orders/:id (ended) | ${rps(on.order)} | ${rps(off.order)} | ${ratio(on.order, off.order)}× | ${on.order.latencyMs.p99} / ${off.order.latencyMs.p99} | ${cpu(on.cpu.order)} | ${cpu(off.cpu.order)} |`,
    '',
    `Following an order to its end: ${WATCH_ORDERS} orders at ${WATCH_RATE}/s, the provider answering charges in ${PROVIDER_LATENCY_MS} ms.`,
    'CPU is order-service, Postgres and Redis together; "watching costs" is beyond the run with nobody watching.',
    '',
    '| client | requests per order | server CPU per order (ms) | watching costs (ms CPU per order) | knew the end after (p50 / p99 ms) |',
    '|---|---|---|---|---|',
    ...watch.map(
      (w) =>
        `| ${w.mode === 'nobody' ? 'nobody watching' : w.mode === 'poll' ? `polls every ${POLL_MS} ms` : 'waits (?wait=30 with ETag)'} | ${w.requestsPerOrder.toFixed(1)} | ${w.cpuMsPerOrder.toFixed(1)} | ${w.mode === 'nobody' ? '—' : (w.cpuMsPerOrder - nobody.cpuMsPerOrder).toFixed(1)} | ${w.noticedAfterMs ? `${w.noticedAfterMs.p50} / ${w.noticedAfterMs.p99}` : '—'} |`,
    ),
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  const dir = path.join(root, 'test', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'read-path.md'), text);
}
