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

/** Counts the answers of one load phase and their latencies, failures also apart. */
class Tally {
  private readonly latencies: number[] = [];
  private readonly failedLatencies: number[] = [];
  private ok = 0;
  private failed = 0;

  record(success: boolean, latencyMs: number): void {
    this.latencies.push(latencyMs);
    if (success) {
      this.ok += 1;
    } else {
      this.failed += 1;
      this.failedLatencies.push(latencyMs);
    }
  }

  /** A request that threw: counted as failed, with no latency to speak of. */
  lost(): void {
    this.failed += 1;
  }

  result(mode: LoadResult['mode'], offered: number, elapsedMs: number): LoadResult {
    return {
      mode,
      offered,
      durationMs: Math.round(elapsedMs),
      ok: this.ok,
      failed: this.failed,
      requestsPerSecond: Math.round((this.ok * 1000) / elapsedMs),
      latencyMs: summarize(this.latencies),
      failedLatencyMs: summarize(this.failedLatencies),
    };
  }
}

/**
 * Open loop: request i is due at start + i/rate whatever happened to the ones before, and its
 * latency is counted from that due time, so a stalled server shows up as latency instead of
 * silently lowering the offered rate (no coordinated omission).
 */
export async function openLoop(rate: number, durationMs: number, send: Send): Promise<LoadResult> {
  const total = Math.round((rate * durationMs) / 1000);
  const tally = new Tally();
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      send().then(
        (success) => tally.record(success, performance.now() - due),
        () => tally.lost(),
      ),
    );
  }
  await Promise.all(inFlight);
  return tally.result('open', rate, performance.now() - start);
}

/** Closed loop: `concurrency` workers each send the next request as soon as the last answered. */
export async function closedLoop(concurrency: number, durationMs: number, send: Send): Promise<LoadResult> {
  const tally = new Tally();
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      const success = await send().catch(() => false);
      tally.record(success, performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally.result('closed', concurrency, performance.now() - start);
}
