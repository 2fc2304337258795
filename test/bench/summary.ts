import type { BenchResult, PhaseResult } from './report.js';

/**
 * The fixed summary of a run (`summary` in latest.json): the same keys every run, so tools can
 * compare runs. Rates are per second; a figure that could not be measured is null.
 */
export interface BenchSummary {
  sagas_per_s: number;
  relay_chain_per_s: number;
  post_per_s: number;
  express_per_s: number;
  messaging_vs_raw: number | null;
  cpu_ms_per_saga: number | null;
  pg_commits_per_saga: number | null;
  compensation_under_backlog_p99_ms: number | null;
  overload: {
    offered_per_s: number;
    accepted_per_s: number;
    rejected: number;
    accepted_p99_ms: number | null;
    rejected_p99_ms: number | null;
    lost: number;
  } | null;
}

const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);
const round1 = (value: number) => Math.round(value * 10) / 10;

/** Process groups that are not the platform: the mock provider (somebody else's machine in production) and the load generator. */
const NOT_OURS = new Set(['payment-provider', 'bench driver']);

const msPerSaga = (phase: PhaseResult, percent: number): number | null =>
  phase.sagas.sagasPerSecond ? round1((percent * 10) / phase.sagas.sagasPerSecond) : null;

/** CPU of the platform's processes (services, broker, Postgres, Redis) during the phase, in ms per completed saga. */
export function cpuMsPerSaga(phase: PhaseResult): number | null {
  const ours = Object.entries(phase.cpuPercent).filter(([group]) => !NOT_OURS.has(group));
  return msPerSaga(phase, ours.reduce((sum, [, percent]) => sum + percent, 0));
}

/** CPU of the mock provider during the phase, in ms per completed saga. */
export function providerCpuMsPerSaga(phase: PhaseResult): number | null {
  return msPerSaga(phase, phase.cpuPercent['payment-provider'] ?? 0);
}

export function benchSummary(result: BenchResult): BenchSummary {
  const best = result.phases.reduce<PhaseResult | undefined>(
    (top, phase) => (!top || phase.sagas.sagasPerSecond > top.sagas.sagasPerSecond ? phase : top),
    undefined,
  );
  const overload = result.phases.find((phase) => phase.role === 'overload');
  const { messaging } = result.peers;
  return {
    sagas_per_s: best?.sagas.sagasPerSecond ?? 0,
    relay_chain_per_s: result.ceilings.relayChainsPerSecond,
    post_per_s: Math.max(0, ...result.phases.map((phase) => phase.http.requestsPerSecond)),
    express_per_s: result.ceilings.expressRequestsPerSecond,
    messaging_vs_raw: messaging.rawMessagesPerSecond ? Math.round((messaging.oursMessagesPerSecond / messaging.rawMessagesPerSecond) * 100) / 100 : null,
    cpu_ms_per_saga: best ? cpuMsPerSaga(best) : null,
    pg_commits_per_saga: best ? best.pgTransactionsPerOrder : null,
    compensation_under_backlog_p99_ms: finite(result.compensationUnderBacklog?.ms.p99 ?? NaN),
    overload: overload
      ? {
          offered_per_s: overload.http.offered,
          accepted_per_s: overload.http.requestsPerSecond,
          // Refused with 503 overloaded (admission control), not failures; timed to the answer.
          rejected: overload.http.rejected,
          accepted_p99_ms: finite(overload.sagas.orderToTerminalMs.p99),
          rejected_p99_ms: finite(overload.http.rejectedLatencyMs.p99),
          lost: overload.sagas.missing,
        }
      : null,
  };
}
