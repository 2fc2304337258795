import { describe, expect, it } from 'vitest';
import type { BenchResult, PhaseResult } from './report.js';
import { benchSummary } from './summary.js';

const latency = (p99: number) => ({ n: 10, p50: p99 / 2, p99, max: p99 });

function phase(name: string, sagasPerSecond: number, extra: Partial<PhaseResult> = {}): PhaseResult {
  return {
    name,
    http: {
      mode: 'open',
      offered: 100,
      durationMs: 10_000,
      ok: 1_000,
      failed: 0,
      rejected: 0,
      requestsPerSecond: 100,
      latencyMs: latency(20),
      failedLatencyMs: latency(NaN),
      rejectedLatencyMs: latency(NaN),
    },
    sagas: { accepted: 1_000, completed: 1_000, cancelled: 0, unfinished: 0, missing: 0, sagasPerSecond, orderToCompletedMs: latency(50), orderToTerminalMs: latency(60) },
    failures: {},
    pgTransactionsPerOrder: 11,
    cpuPercent: { postgres: 100, rabbitmq: 80 },
    ...extra,
  };
}

const result: BenchResult = {
  startedAt: '2026-11-26T00:00:00.000Z',
  machine: { cpus: 2, node: 'v20' },
  phases: [
    phase('open 50/s', 50),
    phase('closed (max)', 180, { pgTransactionsPerOrder: 10 }),
    phase('overload 360/s', 170, {
      role: 'overload',
      // 1 600 refused with 503 overloaded (answered in 12 ms at p99), 5 failed otherwise (slowly).
      http: {
        mode: 'open',
        offered: 360,
        durationMs: 10_000,
        ok: 2_000,
        failed: 5,
        rejected: 1_600,
        requestsPerSecond: 200,
        latencyMs: latency(900),
        failedLatencyMs: latency(5_000),
        rejectedLatencyMs: latency(12),
      },
    }),
  ],
  idleCpuPercent: {},
  peakRssMb: {},
  ceilings: { amqpMessagesPerSecond: 40_000, relayChainsPerSecond: 4_000, pgOutboxTxPerSecond: 6_000, expressRequestsPerSecond: 12_000 },
  peers: {
    messaging: { oursMessagesPerSecond: 30_000, rawMessagesPerSecond: 40_000, rascalMessagesPerSecond: 2_500 } as BenchResult['peers']['messaging'],
    rateLimiter: {} as BenchResult['peers']['rateLimiter'],
  },
  compensationUnderBacklog: { cancelled: 20, unfinished: 0, ms: latency(800) },
};

describe('the bench summary', () => {
  it('when a run is summarised, then the best phase gives the saga figures and the overload phase its own, rejections apart from failures', () => {
    expect(benchSummary(result)).toEqual({
      sagas_per_s: 180,
      relay_chain_per_s: 4_000,
      post_per_s: 200,
      express_per_s: 12_000,
      messaging_vs_raw: 0.75,
      cpu_ms_per_saga: 10,
      pg_commits_per_saga: 10,
      compensation_under_backlog_p99_ms: 800,
      overload: { offered_per_s: 360, accepted_per_s: 200, rejected: 1_600, accepted_p99_ms: 60, rejected_p99_ms: 12, lost: 0 },
    });
  });

  it('when a run has no overload phase and nothing was rejected, then those figures are null, not NaN', () => {
    const plain = { ...result, phases: result.phases.slice(0, 2), compensationUnderBacklog: undefined };
    const summary = benchSummary(plain);
    expect(summary.overload).toBeNull();
    expect(summary.compensation_under_backlog_p99_ms).toBeNull();
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });
});
