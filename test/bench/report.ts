import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadResult } from './http-load.js';
import type { SagaOutcome } from './order-load.js';

export interface PhaseResult {
  name: string;
  http: LoadResult;
  sagas: SagaOutcome;
  /** Non-202 answers to POST /orders by status. */
  failures: Record<string, number>;
  /** Postgres commits + rollbacks (all services) during the phase, per accepted order. */
  pgTransactionsPerOrder: number;
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
}

const TARGETS = { sagasPerSecond: 500, p99At200Ms: 150, postRequestsPerSecond: 2_500, rssMb: 200 };

const ratio = (ours: number, ceiling: number) => (ceiling ? `${((ours / ceiling) * 100).toFixed(1)} %` : 'n/a');

/** The markdown table of one run: figures, targets beside them (never asserted), ratios to ceilings. */
export function toMarkdown(result: BenchResult): string {
  const lines = [`# Order platform bench — ${result.startedAt}`, '', `${result.machine.cpus} CPUs, node ${result.machine.node}; every service, the broker, Postgres, Redis and the load generator on one machine.`, ''];
  lines.push('| phase | offered | POST ok | POST req/s | POST p50 / p99 ms | completed | cancelled | unfinished | sagas/s | order→completed p50 / p99 ms |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const p of result.phases) {
    const offered = p.http.mode === 'open' ? `${p.http.offered}/s` : `${p.http.offered} conc.`;
    lines.push(
      `| ${p.name} | ${offered} | ${p.http.ok} (${p.http.failed} failed${Object.keys(p.failures).length ? `: ${JSON.stringify(p.failures)}` : ''}) | ${p.http.requestsPerSecond} | ${p.http.latencyMs.p50} / ${p.http.latencyMs.p99} | ${p.sagas.completed} | ${p.sagas.cancelled} | ${p.sagas.unfinished} | ${p.sagas.sagasPerSecond} | ${p.sagas.orderToCompletedMs.p50} / ${p.sagas.orderToCompletedMs.p99} |`,
    );
  }
  lines.push('', '## CPU per process group during each phase (% of one core)', '');
  const groups = Object.keys(result.phases[0]?.cpuPercent ?? {});
  lines.push(`| phase | ${groups.join(' | ')} | total | CPU ms per saga | pg tx per order |`, `|---|${groups.map(() => '---').join('|')}|---|---|---|`);
  const idleTotal = Object.values(result.idleCpuPercent).reduce((a, b) => a + b, 0);
  lines.push(`| idle (no load) | ${groups.map((g) => result.idleCpuPercent[g]).join(' | ')} | ${idleTotal} | | |`);
  for (const p of result.phases) {
    const total = Object.values(p.cpuPercent).reduce((a, b) => a + b, 0);
    const msPerSaga = p.sagas.sagasPerSecond ? ((total * 10) / p.sagas.sagasPerSecond).toFixed(1) : 'n/a';
    lines.push(`| ${p.name} | ${groups.map((g) => p.cpuPercent[g]).join(' | ')} | ${total} | ${msPerSaga} | ${p.pgTransactionsPerOrder} |`);
  }
  lines.push('', '## Peak RSS (VmHWM)', '', '| service | MB | target |', '|---|---|---|');
  for (const [name, mb] of Object.entries(result.peakRssMb)) lines.push(`| ${name} | ${mb} | ≤ ${TARGETS.rssMb} |`);

  const maxSagas = Math.max(...result.phases.map((p) => p.sagas.sagasPerSecond));
  const maxPost = Math.max(...result.phases.map((p) => p.http.requestsPerSecond));
  const at200 = result.phases.find((p) => p.http.mode === 'open' && p.http.offered === 200);
  const c = result.ceilings;
  lines.push('', '## Against targets and ceilings', '', '| figure | ours | target | ceiling | ours / ceiling |', '|---|---|---|---|---|');
  lines.push(`| sagas/s to completed (best phase) | ${maxSagas} | ≥ ${TARGETS.sagasPerSecond} | 6-hop relay chain ${c.relayChainsPerSecond} chains/s | ${ratio(maxSagas, c.relayChainsPerSecond)} |`);
  lines.push(`| sagas/s vs raw publish→consume (6 messages a saga) | ${maxSagas * 6} msg/s | | ${c.amqpMessagesPerSecond} msg/s | ${ratio(maxSagas * 6, c.amqpMessagesPerSecond)} |`);
  lines.push(`| sagas/s vs Postgres outbox-shaped tx | ${maxSagas} | | ${c.pgOutboxTxPerSecond} tx/s | ${ratio(maxSagas, c.pgOutboxTxPerSecond)} |`);
  lines.push(`| POST /orders req/s (best phase) | ${maxPost} | ≥ ${TARGETS.postRequestsPerSecond} | bare express ${c.expressRequestsPerSecond} req/s | ${ratio(maxPost, c.expressRequestsPerSecond)} |`);
  if (at200) lines.push(`| order→completed p99 at 200/s | ${at200.sagas.orderToCompletedMs.p99} ms | ≤ ${TARGETS.p99At200Ms} ms | | |`);
  return `${lines.join('\n')}\n`;
}

/** Writes `<stamp>.json` and `<stamp>.md` (and `latest.*`) under test/bench/results/. */
export function writeResults(result: BenchResult): string {
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const markdown = toMarkdown(result);
  for (const name of [stamp, 'latest']) {
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(dir, `${name}.md`), markdown);
  }
  return markdown;
}
