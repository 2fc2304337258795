import { summarize, type LatencySummary } from './stats.js';

/**
 * What became of one request: true for a success, false for a failure, `'rejected'` when the
 * server refused it on purpose (admission control's 503 overloaded): counted apart, since it is
 * the server working as intended, and never retried by the load generator.
 */
export type SendOutcome = boolean | 'rejected';

/** One request. */
export type Send = () => Promise<SendOutcome>;

/** How long a closed-loop worker waits after a rejection before its next request, instead of spinning on fast 503s. */
export const REJECTED_PAUSE_MS = 50;

export interface LoadResult {
  mode: 'open' | 'closed';
  /** Offered rate (open loop) or concurrency (closed loop). */
  offered: number;
  durationMs: number;
  ok: number;
  /** Answers that were neither a success nor a rejection, and requests that threw. */
  failed: number;
  /** Refused on purpose by the server (503 overloaded); not failures. */
  rejected: number;
  requestsPerSecond: number;
  /** Every request's latency, successes, rejections and failures alike. */
  latencyMs: LatencySummary;
  /** The failed requests' latency alone. */
  failedLatencyMs: LatencySummary;
  /** The rejected requests' latency alone: how fast a refusal comes back. */
  rejectedLatencyMs: LatencySummary;
}

/** Counts the answers of one load phase and their latencies, failures and rejections also apart. */
class Tally {
  private readonly latencies: number[] = [];
  private readonly failedLatencies: number[] = [];
  private readonly rejectedLatencies: number[] = [];
  private ok = 0;
  private failed = 0;
  private rejected = 0;

  record(outcome: SendOutcome, latencyMs: number): void {
    this.latencies.push(latencyMs);
    if (outcome === 'rejected') {
      this.rejected += 1;
      this.rejectedLatencies.push(latencyMs);
    } else if (outcome) {
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
      rejected: this.rejected,
      requestsPerSecond: Math.round((this.ok * 1000) / elapsedMs),
      latencyMs: summarize(this.latencies),
      failedLatencyMs: summarize(this.failedLatencies),
      rejectedLatencyMs: summarize(this.rejectedLatencies),
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
        (outcome) => tally.record(outcome, performance.now() - due),
        () => tally.lost(),
      ),
    );
  }
  await Promise.all(inFlight);
  return tally.result('open', rate, performance.now() - start);
}

/**
 * Closed loop: `concurrency` workers each send the next request as soon as the last answered; a
 * worker whose request was rejected pauses REJECTED_PAUSE_MS first (a refusal comes back in about
 * a millisecond, and workers spinning on them would measure how fast the server refuses, taking
 * the CPU the sagas need). The next request is a new one, not a retry.
 */
export async function closedLoop(concurrency: number, durationMs: number, send: Send): Promise<LoadResult> {
  const tally = new Tally();
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      const outcome = await send().catch(() => false);
      tally.record(outcome, performance.now() - sent);
      if (outcome === 'rejected') await new Promise((resolve) => setTimeout(resolve, REJECTED_PAUSE_MS));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally.result('closed', concurrency, performance.now() - start);
}
