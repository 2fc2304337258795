import { Type, type Static } from '@sinclair/typebox';

export const FaultSettings = Type.Object(
  {
    /** Added before every request of the matched routes is handled, reads included. */
    latency_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 120_000 })),
    /** Share of requests answered 500 without anything committed. */
    error_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** Never answer (the client's timeout must cancel). */
    hang: Type.Optional(Type.Boolean()),
    /** Commit the payment/refund, then answer 500 ("500") or nothing at all ("timeout"). */
    commit_then_fail: Type.Optional(Type.Union([Type.Null(), Type.Literal('500'), Type.Literal('timeout')])),
    /** Which routes the faults apply to. */
    match: Type.Optional(Type.Union([Type.Literal('payments'), Type.Literal('refunds'), Type.Literal('all')])),
  },
  { additionalProperties: false },
);
export type FaultSettings = Static<typeof FaultSettings>;

/** The routes faults apply to (latency to every request of them; the others to writes). */
export type FaultRoute = 'payments' | 'refunds';

/**
 * Fault-injection control for tests. Per process, in memory, on purpose: it is a switch a test
 * flips on the instance it talks to, not state of the provider's ledger; with several provider
 * processes each must be set, and a restart clears it. Exists only when FAULT_INJECTION_ENABLED.
 */
export class Faults {
  private settings: FaultSettings = {};

  get current(): FaultSettings {
    return { ...this.settings };
  }

  set(settings: FaultSettings): void {
    this.settings = { ...settings };
  }

  /** The faults that apply to a route ('payments' or 'refunds'). */
  for(route: FaultRoute): FaultSettings {
    const match = this.settings.match ?? 'all';
    return match === 'all' || match === route ? this.settings : {};
  }
}

/**
 * What the API's clients are doing to it, seen from here: requests open now, the most open at once,
 * and how many the client gave up on (connection closed before the answer). Lets a test check that
 * client timeouts really cancel calls and that concurrency stays bounded. Test control, like Faults.
 */
export class CallGauge {
  private open = 0;
  private peak = 0;
  private abandoned = 0;

  /** Counts a request from its arrival to its connection's close; `answered()` tells which. */
  track(closed: (listener: () => void) => void, answered: () => boolean): void {
    this.open += 1;
    this.peak = Math.max(this.peak, this.open);
    closed(() => {
      this.open -= 1;
      if (!answered()) this.abandoned += 1;
    });
  }

  get stats(): { in_flight: number; max_in_flight: number; abandoned: number } {
    return { in_flight: this.open, max_in_flight: this.peak, abandoned: this.abandoned };
  }

  /** Starts a new measurement (the peak restarts from what is open now). */
  reset(): void {
    this.peak = this.open;
    this.abandoned = 0;
  }
}
