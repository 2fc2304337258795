/**
 * `npm run bench`: starts every service as its own process (test/support/process-stack.ts), drives
 * `POST /orders` open-loop at fixed rates, closed-loop for the maximum, then at twice the saturation
 * rate (overload) and again while cancelling orders that wait in the backlog, optionally soaks
 * the stack at a fixed rate watching memory, measures the raw ceilings with the same tools and
 * our messaging and rate-limiting layers beside their peers, and writes JSON + markdown and a
 * latency-against-load SVG to test/bench/results/.
 * Settings: see bench-config.ts (BENCH_RATES, BENCH_PHASE_MS, BENCH_CONCURRENCY, BENCH_SOAK_MS, …).
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { cpus } from 'node:os';
import path from 'node:path';
import { ALL_PROCESSES, ProcessStack } from '../support/process-stack.js';
import { authHeader } from '../support/tokens.js';
import { loadBenchConfig } from './bench-config.js';
import { amqpPublishConsume } from './ceilings/amqp-publish-consume.js';
import { cancelWhileLoaded, compensationLag, type CompensationLag } from './compensation-lag.js';
import { expressJson } from './ceilings/express-json.js';
import { pgOutboxTx } from './ceilings/pg-outbox-tx.js';
import { relayChain } from './ceilings/relay-chain.js';
import { HttpClient } from './http-client.js';
import { closedLoop, openLoop, type LoadResult, type Send } from './http-load.js';
import { orderSender, sagaOutcome } from './order-load.js';
import { messagingPeers } from './peers/messaging.js';
import { rateLimiterPeers } from './peers/rate-limiter.js';
import { writeLatencyPlot } from './plot.js';
import { prunedTableRows, SOAK_RETENTION_ENV } from './pruned-tables.js';
import { CpuSampler, peakRssMb, pidsNamed } from './process-usage.js';
import { writeResults, type BenchResult, type PhaseResult } from './report.js';
import { soak, type SoakResult } from './soak.js';
import { measureTracingCost, type TracingCost } from './tracing-cost.js';

const config = loadBenchConfig(process.env);
const startedAt = new Date().toISOString();
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

// The compiled services, as the image runs them: built here first, so a stale dist/ is never measured.
log('building dist/');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.resolve(import.meta.dirname, '..', '..'), stdio: 'inherit' });
// The mock provider on a database of its own: in production it is somebody else's, so its
// transactions are counted apart from ours (pg_stat_database is per database).
const providerDatabaseUrl = await freshDatabase(config.databaseUrl, 'bench_payment_provider');
const stackEnv = {
  RATE_LIMIT_CUSTOMER: '100000000',
  LOG_LEVEL: 'warn',
  // A closed-loop phase can queue more orders than the saga drains in 30 s; a deadline cancel
  // there would measure the backlog, not the saga.
  SAGA_TIMEOUT_MS: '300000',
};
// A soak also shows the pruned tables flat: prunes every minute, rows kept minutes (for the whole run).
const stack = await ProcessStack.start({ ...stackEnv, ...(config.soakMs > 0 ? SOAK_RETENTION_ENV : {}) }, { compiled: true, providerDatabaseUrl });
const phases: PhaseResult[] = [];
let peakRss: Record<string, number> = {};
let idleCpu: Record<string, number> = {};
let soaked: SoakResult | undefined;
let compensation: CompensationLag | undefined;
let tracing: TracingCost | undefined;
/** Cancellations made during the backlog phase. */
const CANCELS = 20;
try {
  // Stock is finite (infra/seed/catalog.json); lift it in this run's own namespace so no order
  // ends cancelled for want of stock.
  await stack.db.query(`UPDATE ${stack.table('inventory-service', 'stock')} SET available = 100000000`);
  await stack.db.query(`UPDATE ${stack.table('order-service', 'product_stock')} SET available = 100000000`);

  const client = new HttpClient(Math.max(64, config.concurrency));
  const auth = await authHeader('bench');
  const ordersTable = stack.table('order-service', 'orders');
  const cpu = new CpuSampler(() => ({
    ...Object.fromEntries(ALL_PROCESSES.map((name) => [name, [stack.pid(name) ?? -1]])),
    rabbitmq: pidsNamed('beam.smp'),
    postgres: pidsNamed('postgres'),
    redis: pidsNamed('redis-server'),
    'bench driver': [process.pid],
  }));

  const providerDb = new pg.Client({ connectionString: providerDatabaseUrl });
  providerDb.on('error', () => undefined);
  await providerDb.connect();
  const transactionsOf = async (db: Pick<pg.Client, 'query'>) => {
    const { rows } = await db.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0]?.n);
  };
  const pgTransactions = async () => ({ ours: await transactionsOf(stack.db), provider: await transactionsOf(providerDb) });
  const phase = async (
    name: string,
    drive: (send: Send, accepted: readonly string[]) => Promise<LoadResult>,
    role?: PhaseResult['role'],
  ) => {
    const accepted: string[] = [];
    const failures: Record<string, number> = {};
    cpu.start();
    const txBefore = await pgTransactions();
    const http = await drive(orderSender(client, stack.orderApi, auth, accepted, failures), accepted);
    const sagas = await sagaOutcome(stack.db, ordersTable, accepted, config.settleMs);
    const txAfter = await pgTransactions();
    const perOrder = (n: number) => Math.round((n / Math.max(1, accepted.length)) * 10) / 10;
    const result: PhaseResult = {
      name,
      ...(role ? { role } : {}),
      http,
      sagas,
      failures,
      pgTransactionsPerOrder: perOrder(txAfter.ours - txBefore.ours),
      providerPgTransactionsPerOrder: perOrder(txAfter.provider - txBefore.provider),
      cpuPercent: cpu.stop(),
    };
    log(`${name}: ${JSON.stringify({ http, sagas })}`);
    return result;
  };

  await phase('warm-up', (send) => openLoop(20, 2_000, send));
  cpu.start();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  idleCpu = cpu.stop();
  for (const rate of config.rates) phases.push(await phase(`open ${rate}/s`, (send) => openLoop(rate, config.phaseMs, send)));
  phases.push(await phase('closed (max)', (send) => closedLoop(config.concurrency, config.phaseMs, send)));
  // Past saturation: twice the best rate measured so far. Then the same rate again while customers
  // cancel orders waiting in the backlog: how long do their compensations wait behind new orders?
  const overloadRate = Math.max(50, 2 * Math.max(...phases.map((p) => p.sagas.sagasPerSecond)));
  phases.push(await phase(`overload ${overloadRate}/s`, (send) => openLoop(overloadRate, config.phaseMs, send), 'overload'));
  let cancelled: string[] = [];
  phases.push(
    await phase(
      `cancels in a backlog, ${overloadRate}/s`,
      async (send, accepted) => {
        const cancels = cancelWhileLoaded({ client, api: stack.orderApi, auth, accepted, count: CANCELS, intervalMs: config.phaseMs / (CANCELS + 1) });
        const load = await openLoop(overloadRate, config.phaseMs, send);
        cancelled = await cancels;
        return load;
      },
      'cancels',
    ),
  );
  compensation = await compensationLag(stack, stack.db, cancelled, config.settleMs);
  log(`compensation under backlog: ${JSON.stringify(compensation)}`);
  peakRss = Object.fromEntries(ALL_PROCESSES.map((name) => [name, peakRssMb(stack.pid(name) ?? -1)]));
  if (config.soakMs > 0) {
    log(`soak: ${config.soakMs / 1000} s at ${config.soakRate}/s`);
    soaked = await soak({
      durationMs: config.soakMs,
      rate: config.soakRate,
      makeSend: () => orderSender(client, stack.orderApi, auth, []),
      pids: () => Object.fromEntries(ALL_PROCESSES.map((name) => [name, stack.pid(name) ?? -1])),
      db: stack.db,
      ordersTable,
      settleMs: config.settleMs,
      log,
      tableRows: prunedTableRows(stack, providerDb),
    });
    log(`  ${JSON.stringify({ posts: soaked.posts, sagas: soaked.sagas })}`);
  }
  client.close();
  await providerDb.end();
} finally {
  await stack.stop();
  await dropDatabase(config.databaseUrl, providerDatabaseUrl);
}
if (config.tracing) {
  log('tracing: off, on, off, on');
  const client = new HttpClient(Math.max(64, config.concurrency));
  tracing = await measureTracingCost({ config, client, log, env: stackEnv });
  client.close();
}

log('ceiling (a): raw publish → consume');
const amqp = await amqpPublishConsume(config.amqpUrl, config.amqpMessages);
log(`  ${JSON.stringify(amqp)}`);
log('ceiling (b): 6-hop relay chain');
const chain = await relayChain(config.amqpUrl, config.phaseMs);
log(`  ${JSON.stringify(chain)}`);
log('ceiling (c): Postgres outbox-shaped transactions');
const pgTx = await pgOutboxTx(config.databaseUrl, config.phaseMs);
log(`  ${JSON.stringify(pgTx)}`);
log('ceiling (d): bare express JSON endpoint');
const body = JSON.stringify({
  items: [{ sku: 'STICKER-PACK', quantity: 1 }],
  currency: 'USD',
  payment_source: 'tok_visa',
  shipping_address: { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postal_code: '127', country: 'US' },
});
const express = await expressJson(config.phaseMs, config.concurrency, body);
log(`  ${JSON.stringify(express)}`);
log('peers (a): messaging — ours, rascal, raw amqplib');
const messaging = await messagingPeers(config.amqpUrl, config.amqpMessages);
log(`  ${JSON.stringify(messaging)}`);
log('peers (b): rate limiter — ours, rate-limiter-flexible');
const rateLimiter = await rateLimiterPeers(config.redisUrl, config.phaseMs, config.concurrency);
log(`  ${JSON.stringify(rateLimiter)}`);

const result: BenchResult = {
  startedAt,
  machine: { cpus: cpus().length, node: process.version },
  phases,
  idleCpuPercent: idleCpu,
  peakRssMb: peakRss,
  ceilings: {
    amqpMessagesPerSecond: amqp.messagesPerSecond,
    relayChainsPerSecond: chain.chainsPerSecond,
    pgOutboxTxPerSecond: pgTx.requestsPerSecond,
    expressRequestsPerSecond: express.requestsPerSecond,
  },
  peers: { messaging, rateLimiter },
  ...(soaked ? { soak: soaked } : {}),
  ...(compensation ? { compensationUnderBacklog: compensation } : {}),
  ...(tracing ? { tracing } : {}),
};
process.stdout.write(writeResults(result));
log(`plot: ${writeLatencyPlot(result)}`);

/** Creates (again) an empty database named `name` beside the one of `url`; returns its URL. */
async function freshDatabase(url: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const created = new URL(url);
  created.pathname = `/${name}`;
  return created.toString();
}

async function dropDatabase(adminUrl: string, url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
