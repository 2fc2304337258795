import { summarize, type LatencySummary } from './stats.js';

/** One request; resolves true when the answer counts as a success. */
export type Send = () => Promise<boolean>;

export interface LoadResult {
  mode: 'open' | 'closed';
  /** Offered rate (open loop) or concurrency (closed loop). */
  offered: number;
  durationMs: number;
  ok: number;
  failed: number;
  requestsPerSecond: number;
  /** Every request's latency, successes and failures alike. */
  latencyMs: LatencySummary;
  /** The failed requests' latency alone (e.g. how fast a 503 comes back). */
  failedLatencyMs: LatencySummary;
}

/**
 * Open loop: request i is due at start + i/rate whatever happened to the ones before, and its
 * latency is counted from that due time, so a stalled server shows up as latency instead of
 * silently lowering the offered rate (no coordinated omission).
 */
export async function openLoop(rate: number, durationMs: number, send: Send): Promise<LoadResult> {
  const total = Math.round((rate * durationMs) / 1000);
  const latencies: number[] = [];
  const failedLatencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      send().then(
        (success) => {
          const latency = performance.now() - due;
          latencies.push(latency);
          if (success) {
            ok += 1;
          } else {
            failed += 1;
            failedLatencies.push(latency);
          }
        },
        () => {
          failed += 1;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = performance.now() - start;
  return {
    mode: 'open',
    offered: rate,
    durationMs: Math.round(elapsed),
    ok,
    failed,
    requestsPerSecond: Math.round((ok * 1000) / elapsed),
    latencyMs: summarize(latencies),
    failedLatencyMs: summarize(failedLatencies),
  };
}

/** Closed loop: `concurrency` workers each send the next request as soon as the last answered. */
export async function closedLoop(concurrency: number, durationMs: number, send: Send): Promise<LoadResult> {
  const latencies: number[] = [];
  const failedLatencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      const success = await send().catch(() => false);
      const latency = performance.now() - sent;
      latencies.push(latency);
      if (success) {
        ok += 1;
      } else {
        failed += 1;
        failedLatencies.push(latency);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - start;
  return {
    mode: 'closed',
    offered: concurrency,
    durationMs: Math.round(elapsed),
    ok,
    failed,
    requestsPerSecond: Math.round((ok * 1000) / elapsed),
    latencyMs: summarize(latencies),
    failedLatencyMs: summarize(failedLatencies),
  };
}
