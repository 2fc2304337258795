import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CompensationLag } from './compensation-lag.js';
import type { LoadResult } from './http-load.js';
import type { SagaOutcome } from './order-load.js';
import type { MessagingPeers } from './peers/messaging.js';
import type { RateLimiterPeers } from './peers/rate-limiter.js';
import type { SoakResult } from './soak.js';
import { benchSummary, cpuMsPerSaga, providerCpuMsPerSaga } from './summary.js';
import { tracingMarkdown, type TracingCost } from './tracing-cost.js';

/** Where every results file goes. */
export const resultsDir = path.join(import.meta.dirname, 'results');

export interface PhaseResult {
  name: string;
  /** A phase the summary reads: offered at twice the saturation rate, or with cancels in a backlog. */
  role?: 'overload' | 'cancels';
  http: LoadResult;
  sagas: SagaOutcome;
  /** Non-202 answers to POST /orders by status. */
  failures: Record<string, number>;
  /** Postgres commits + rollbacks of our services during the phase, per accepted order. */
  pgTransactionsPerOrder: number;
  /** The same for the mock provider, on a database of its own (in production: somebody else's). */
  providerPgTransactionsPerOrder?: number;
  /** CPU per process group during the phase (load and drain), % of one core. */
  cpuPercent: Record<string, number>;
}

export interface BenchResult {
  startedAt: string;
  machine: { cpus: number; node: string };
  phases: PhaseResult[];
  /** CPU per process group with the stack idle (sweepers, heartbeats), % of one core. */
  idleCpuPercent: Record<string, number>;
  peakRssMb: Record<string, number>;
  ceilings: {
    amqpMessagesPerSecond: number;
    relayChainsPerSecond: number;
    pgOutboxTxPerSecond: number;
    expressRequestsPerSecond: number;
  };
  /** Our layers beside the libraries doing the same job, measured in the same run. */
  peers: {
    messaging: MessagingPeers;
    rateLimiter: RateLimiterPeers;
  };
  /** Present when BENCH_SOAK_MS was set. */
  soak?: SoakResult;
  /** Cancellations made while a backlog of new orders waited: how long their compensations took. */
  compensationUnderBacklog?: CompensationLag;
  /** Tracing off against on (BENCH_TRACING). */
  tracing?: TracingCost;
}

const TARGETS = { sagasVsRelayChain: 0.12, postVsExpress: 0.25, pgCommitsPerSaga: 4, rssMb: 200, messagingVsRaw: 0.8 };

const ratio = (ours: number, ceiling: number) => (ceiling ? `${((ours / ceiling) * 100).toFixed(1)} %` : 'n/a');
const times = (ours: number, peer: number) => (peer ? `${(ours / peer).toFixed(2)}×` : 'n/a');

/** The markdown table of one run: figures, targets beside them (never asserted), ratios to ceilings. */
export function toMarkdown(result: BenchResult): string {
  const lines = [`# Order platform bench — ${result.startedAt}`, '', `${result.machine.cpus} CPUs, node ${result.machine.node}; every service, the broker, Postgres, Redis and the load generator on one machine.`, ''];
  lines.push('| phase | offered | POST ok | POST req/s | POST p50 / p99 ms | completed | cancelled | unfinished | sagas/s | order→completed p50 / p99 ms |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const p of result.phases) {
    const offered = p.http.mode === 'open' ? `${p.http.offered}/s` : `${p.http.offered} conc.`;
    lines.push(
      `| ${p.name} | ${offered} | ${p.http.ok} (${p.http.rejected ? `${p.http.rejected} rejected, ` : ''}${p.http.failed} failed${Object.keys(p.failures).length ? `: ${JSON.stringify(p.failures)}` : ''}) | ${p.http.requestsPerSecond} | ${p.http.latencyMs.p50} / ${p.http.latencyMs.p99} | ${p.sagas.completed} | ${p.sagas.cancelled} | ${p.sagas.unfinished} | ${p.sagas.sagasPerSecond} | ${p.sagas.orderToCompletedMs.p50} / ${p.sagas.orderToCompletedMs.p99} |`,
    );
  }
  lines.push('', '## CPU per process group during each phase (% of one core)', '');
  const groups = Object.keys(result.phases[0]?.cpuPercent ?? {});
  lines.push(
    'CPU ms per saga counts every process but the mock provider and the bench driver; the provider (in production somebody else\'s machine) is reported apart, and its Postgres transactions too (it runs on a database of its own).',
    '',
    `| phase | ${groups.join(' | ')} | total | CPU ms per saga | provider CPU ms per saga | pg tx per order | provider pg tx per order |`,
    `|---|${groups.map(() => '---').join('|')}|---|---|---|---|---|`,
  );
  const idleTotal = Object.values(result.idleCpuPercent).reduce((a, b) => a + b, 0);
  lines.push(`| idle (no load) | ${groups.map((g) => result.idleCpuPercent[g]).join(' | ')} | ${idleTotal} | | | | |`);
  for (const p of result.phases) {
    const total = Object.values(p.cpuPercent).reduce((a, b) => a + b, 0);
    const msPerSaga = cpuMsPerSaga(p)?.toFixed(1) ?? 'n/a';
    const providerMs = providerCpuMsPerSaga(p)?.toFixed(1) ?? 'n/a';
    lines.push(
      `| ${p.name} | ${groups.map((g) => p.cpuPercent[g]).join(' | ')} | ${total} | ${msPerSaga} | ${providerMs} | ${p.pgTransactionsPerOrder} | ${p.providerPgTransactionsPerOrder ?? 'n/a'} |`,
    );
  }
  lines.push('', '## Peak RSS (VmHWM)', '', '| service | MB | target |', '|---|---|---|');
  for (const [name, mb] of Object.entries(result.peakRssMb)) lines.push(`| ${name} | ${mb} | ≤ ${TARGETS.rssMb} |`);

  const maxSagas = Math.max(...result.phases.map((p) => p.sagas.sagasPerSecond));
  const maxPost = Math.max(...result.phases.map((p) => p.http.requestsPerSecond));
  const at200 = result.phases.find((p) => p.http.mode === 'open' && p.http.offered === 200);
  const c = result.ceilings;
  lines.push('', '## Against targets and ceilings', '', '| figure | ours | target | ceiling | ours / ceiling |', '|---|---|---|---|---|');
  const best = result.phases.reduce<PhaseResult | undefined>((top, p) => (!top || p.sagas.sagasPerSecond > top.sagas.sagasPerSecond ? p : top), undefined);
  lines.push(`| sagas/s to completed (best phase) | ${maxSagas} | ≥ ${TARGETS.sagasVsRelayChain * 100} % of the relay chain | 6-hop relay chain ${c.relayChainsPerSecond} chains/s | ${ratio(maxSagas, c.relayChainsPerSecond)} |`);
  lines.push(`| sagas/s vs raw publish→consume (6 messages a saga) | ${maxSagas * 6} msg/s | | ${c.amqpMessagesPerSecond} msg/s | ${ratio(maxSagas * 6, c.amqpMessagesPerSecond)} |`);
  lines.push(`| sagas/s vs Postgres outbox-shaped tx | ${maxSagas} | | ${c.pgOutboxTxPerSecond} tx/s | ${ratio(maxSagas, c.pgOutboxTxPerSecond)} |`);
  lines.push(`| POST /orders req/s (best phase) | ${maxPost} | ≥ ${TARGETS.postVsExpress * 100} % of bare express | bare express ${c.expressRequestsPerSecond} req/s | ${ratio(maxPost, c.expressRequestsPerSecond)} |`);
  if (best) {
    lines.push(`| Postgres transactions per saga at saturation (best phase; ours, provider apart) | ${best.pgTransactionsPerOrder} (provider ${best.providerPgTransactionsPerOrder ?? 'n/a'}) | ≤ ${TARGETS.pgCommitsPerSaga} | | |`);
    lines.push(`| CPU ms per saga at saturation (best phase; provider apart) | ${cpuMsPerSaga(best) ?? 'n/a'} (provider ${providerCpuMsPerSaga(best) ?? 'n/a'}) | | | |`);
  }
  if (at200) lines.push(`| order→completed p50 / p99 at 200/s | ${at200.sagas.orderToCompletedMs.p50} / ${at200.sagas.orderToCompletedMs.p99} ms | | | |`);
  const m = result.peers.messaging;
  lines.push(
    `| our messaging, publish→consume (peers) | ${m.oursMessagesPerSecond} msg/s | ≥ ${TARGETS.messagingVsRaw}× raw amqplib and ≥ rascal | raw amqplib ${m.rawMessagesPerSecond} msg/s; rascal ${m.rascalMessagesPerSecond} msg/s | ${times(m.oursMessagesPerSecond, m.rawMessagesPerSecond)} raw; ${times(m.oursMessagesPerSecond, m.rascalMessagesPerSecond)} rascal |`,
  );
  const overload = result.phases.find((p) => p.role === 'overload');
  if (overload) {
    lines.push(
      `| overload at ${overload.http.offered}/s (2× saturation): accepted / rejected; order→terminal p99 of the accepted; time to a rejection p99 | ${overload.http.ok} / ${overload.http.rejected}${overload.http.failed ? ` (and ${overload.http.failed} failed)` : ''}; ${overload.sagas.orderToTerminalMs.p99} ms; ${overload.http.rejectedLatencyMs.n ? `${overload.http.rejectedLatencyMs.p99} ms` : 'none rejected'} | p99 ≤ 1000 ms; rejections p99 ≤ 50 ms; 0 lost (lost: ${overload.sagas.missing}) | | |`,
    );
  }
  const lag = result.compensationUnderBacklog;
  if (lag) {
    lines.push(
      `| a cancellation under a backlog of new orders → every participant applied it, p50 / p99 (${lag.cancelled} cancels, ${lag.unfinished} unfinished) | ${lag.ms.p50} / ${lag.ms.p99} ms | p99 ≤ 1000 ms | | |`,
    );
  }
  lines.push(...peersMarkdown(result.peers));
  if (result.tracing) lines.push(...tracingMarkdown(result.tracing));
  if (result.soak) lines.push(...soakMarkdown(result.soak));
  return `${lines.join('\n')}\n`;
}

function peersMarkdown(peers: BenchResult['peers']): string[] {
  const { messaging: m, rateLimiter: r } = peers;
  return [
    '',
    '## Peers',
    '',
    'Our layers beside well-kept libraries on the same workload, one after another in this run. The rate limiter is built on rate-limiter-flexible, so its ratio is the overhead of our middleware.',
    '',
    '| workload | ours | peer | raw | ours / peer | ours / raw |',
    '|---|---|---|---|---|---|',
    `| ${m.messages} persistent messages, confirms (≤ ${m.publishWindow} in flight) → quorum queue → consumer with acks (prefetch ${m.prefetch}); best of ${m.rounds} rounds | EventPublisher + EventConsumer ${m.oursMessagesPerSecond} msg/s | rascal ${m.rascalMessagesPerSecond} msg/s | amqplib ${m.rawMessagesPerSecond} msg/s | ${times(m.oursMessagesPerSecond, m.rascalMessagesPerSecond)} | ${times(m.oursMessagesPerSecond, m.rawMessagesPerSecond)} |`,
    `| rate-limit check against Redis, closed loop, ${r.concurrency} concurrent, ${r.durationMs / 1000} s each in alternating halves | rateLimit() middleware ${r.oursOpsPerSecond} ops/s | RateLimiterRedis.consume ${r.libraryOpsPerSecond} ops/s | | ${times(r.oursOpsPerSecond, r.libraryOpsPerSecond)} | |`,
  ];
}

function soakMarkdown(soak: SoakResult): string[] {
  const lines = [
    '',
    `## Soak: ${Math.round(soak.durationMs / 60_000)} min at ${soak.rate} orders/s`,
    '',
    `POST /orders: ${soak.posts.ok} ok, ${soak.posts.rejected} rejected (overloaded), ${soak.posts.failed} failed; p99 ${soak.postP99Ms.first} ms in the first minute, ${soak.postP99Ms.last} ms in the last, ${soak.postP99Ms.max} ms at worst. ` +
      `Sagas: ${soak.sagas.completed} completed, ${soak.sagas.cancelled} cancelled, ${soak.sagas.unfinished} unfinished.`,
    '',
    `RSS (VmRSS) sampled every ${soak.sampleIntervalMs / 1000} s; growth is the least-squares slope after the first minute.`,
    '',
    '| service | first-minute avg MB | last-minute avg MB | max MB | growth MB / 10 min | samples | MB by minute |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [name, rss] of Object.entries(soak.rssMb)) {
    const mb = (value: number | null) => (value !== null && Number.isFinite(value) ? value : 'n/a');
    lines.push(`| ${name} | ${mb(rss.firstMinuteAvgMb)} | ${mb(rss.lastMinuteAvgMb)} | ${mb(rss.maxMb)} | ${mb(rss.growthMbPer10Min)} | ${rss.samples} | ${(rss.perMinuteMb ?? []).map(Math.round).join(' ')} |`);
  }
  const tables = Object.keys(soak.tableRows?.[0]?.rows ?? {});
  if (tables.length > 0) {
    lines.push('', 'Rows of the pruned tables (prunes every minute, retention of minutes): they grow until their retention has passed, then stay flat.', '');
    lines.push(`| soak time | ${tables.join(' | ')} |`, `|---|${tables.map(() => '---|').join('')}`);
    for (const point of soak.tableRows!) lines.push(`| ${point.atS} s | ${tables.map((table) => point.rows[table] ?? '').join(' | ')} |`);
  }
  return lines;
}

/** Writes `<stamp>.json` and `<stamp>.md` (and `latest.*`) under test/bench/results/. */
export function writeResults(result: BenchResult): string {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = stampOf(result);
  const markdown = toMarkdown(result);
  for (const name of [stamp, 'latest']) {
    writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify({ summary: benchSummary(result), ...result }, null, 2)}\n`);
    writeFileSync(path.join(resultsDir, `${name}.md`), markdown);
  }
  return markdown;
}

/** Writes `name` and its timestamped copy `<stamp>-name` under test/bench/results/; returns the path of the first. */
export function writeResultFile(result: BenchResult, name: string, content: string): string {
  mkdirSync(resultsDir, { recursive: true });
  for (const file of [name, `${stampOf(result)}-${name}`]) writeFileSync(path.join(resultsDir, file), content);
  return path.join(resultsDir, name);
}

function stampOf(result: BenchResult): string {
  return result.startedAt.replace(/[:.]/g, '-');
}
