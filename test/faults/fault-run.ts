import { afterAll, afterEach, beforeAll } from 'vitest';
import { ProcessStack, type ProcessStackOptions } from '../support/process-stack.js';
import { waitFor } from '../support/wait-for.js';
import { checkInvariants, type InvariantReport } from './invariants.js';
import { noteKeptRun } from './kept-run.js';
import { emptyLoadResult, runLoad, type LoadResult, type PlacedOrder } from './load-generator.js';
import { report } from './scenario-report.js';

/** Orders a second offered by the load generator (FAULT_LOAD_RATE). */
export const RATE = Number(process.env.FAULT_LOAD_RATE ?? 10);

export interface ScenarioOptions {
  /** How long the load runs, from before the fault until after it. */
  durationMs: number;
  /** @defaultValue {@link RATE} */
  rate?: number;
  /** Orders accepted before the fault is injected, so that it lands mid-load. @defaultValue 10 */
  warmup?: number;
  settleTimeoutMs?: number;
}

export type ScenarioFigures = InvariantReport & { statuses: Record<string, number> } & Record<string, unknown>;

/**
 * One stack's series of scenarios. Each runs the load generator, injects its fault once the load is
 * under way, and, once the fault is healed and the load over, checks every invariant over all the
 * orders this stack has taken (stock and money are cumulative), then reports the figures.
 */
export class FaultRun {
  readonly placed: PlacedOrder[] = [];
  /** Poison messages injected so far: the dead letters there must be. */
  poisoned = 0;

  private started: ProcessStack | undefined;
  /** The file's failed tests and the scenarios that found violations: any keeps the stack for a post-mortem. */
  private readonly failures: string[] = [];

  private constructor() {}

  /**
   * The fault run of one test file: its process stack (every service its own OS process, `env`
   * added to theirs) starts before the file's tests and stops after them, once `restore` has
   * brought back any server a test may have left stopped. If a test failed or a scenario found
   * violations, the stopped stack's namespace and logs are kept, and where they are is printed.
   */
  static forFile(
    env: Record<string, string> = {},
    options: {
      restore?: () => Promise<unknown>;
      /** The stack's options, read when it starts (after the hooks registered before this call, e.g. a cluster's start). */
      stack?: () => ProcessStackOptions;
    } = {},
  ): FaultRun {
    const run = new FaultRun();
    beforeAll(async () => {
      run.started = await ProcessStack.start(env, options.stack?.());
    });
    afterEach(({ task }) => {
      if (task.result?.state === 'fail') run.failures.push(`test "${task.name}"`);
    });
    afterAll(async () => {
      await options.restore?.();
      const keep = run.failures.length > 0;
      await run.started?.stop({ keep });
      if (keep && run.started) console.warn(noteKeptRun(run.started, run.failures));
    });
    return run;
  }

  get stack(): ProcessStack {
    if (!this.started) throw new Error('the process stack has not started (FaultRun.forFile runs it in beforeAll)');
    return this.started;
  }

  /**
   * Runs one scenario. `fault` is called mid-load and resolves once the fault is healed; what it
   * returns is added to the figures.
   */
  async scenario(
    name: string,
    options: ScenarioOptions,
    fault: (progress: LoadResult) => Promise<Record<string, unknown> | void>,
  ): Promise<ScenarioFigures> {
    const progress = emptyLoadResult();
    const load = runLoad(this.stack.orderApi, { rate: options.rate ?? RATE, durationMs: options.durationMs, progress });
    let healedAt = Date.now();
    let extra: Record<string, unknown> | void = {};
    try {
      await waitFor(async () => progress.accepted.length >= (options.warmup ?? 10), { timeoutMs: 30_000, what: 'the load to be under way' });
      extra = await fault(progress);
      healedAt = Date.now();
    } finally {
      await load;
      this.placed.push(...progress.accepted);
    }
    return this.check(name, progress, { healedAt, settleTimeoutMs: options.settleTimeoutMs, extra: extra ?? {} });
  }

  /** Checks the invariants over every order placed so far, and reports the figures under `name`. */
  async check(
    name: string,
    load: LoadResult,
    options: { healedAt?: number; settleTimeoutMs?: number; extra?: Record<string, unknown> } = {},
  ): Promise<ScenarioFigures> {
    const invariants = await checkInvariants(
      this.stack,
      { ...load, accepted: [...this.placed] },
      {
        healedAt: options.healedAt,
        settleTimeoutMs: options.settleTimeoutMs,
        expectedDeadLetters: this.poisoned,
        countOnly: load.accepted.map((o) => o.id),
      },
    );
    const figures: ScenarioFigures = {
      ...invariants,
      // This scenario's own orders; `lost` and the other invariants cover every order of the stack.
      orders_sent: load.sent,
      accepted: load.accepted.length,
      // Refused by admission control until their client gave up: neither accepted nor lost.
      rejected: load.rejected,
      statuses: load.statuses,
      ...options.extra,
    };
    report(name, figures);
    if (figures.violations.length > 0) this.failures.push(`scenario ${name}: ${figures.violations.join(' | ')}`);
    return figures;
  }
}
