/** Bench settings; the defaults keep a whole run under ~5 minutes (the soak is off unless asked for). */
export interface BenchConfig {
  /** Open-loop rates, orders/s (BENCH_RATES, comma-separated). */
  rates: number[];
  /** Length of each open-loop and closed-loop phase (BENCH_PHASE_MS). */
  phaseMs: number;
  /** Concurrency of the closed-loop phases (BENCH_CONCURRENCY). */
  concurrency: number;
  /** Messages for the raw publish→consume ceiling and the messaging peers (BENCH_AMQP_MESSAGES). */
  amqpMessages: number;
  /** How long to wait for a phase's sagas to end (BENCH_SETTLE_MS). */
  settleMs: number;
  /** Length of the soak phase; 0 skips it (BENCH_SOAK_MS). */
  soakMs: number;
  /** Open-loop rate of the soak, orders/s (BENCH_SOAK_RATE). */
  soakRate: number;
  /** Measure tracing off against on, four stacks in turn (BENCH_TRACING=0 skips it). */
  tracing: boolean;
  amqpUrl: string;
  databaseUrl: string;
  /** Redis for the rate-limiter peers (REDIS_URL). */
  redisUrl: string;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  return {
    rates: (env.BENCH_RATES ?? '25,50,100,200,400').split(',').map(Number),
    phaseMs: Number(env.BENCH_PHASE_MS ?? 10_000),
    concurrency: Number(env.BENCH_CONCURRENCY ?? 32),
    amqpMessages: Number(env.BENCH_AMQP_MESSAGES ?? 40_000),
    settleMs: Number(env.BENCH_SETTLE_MS ?? 120_000),
    soakMs: Number(env.BENCH_SOAK_MS ?? 0),
    soakRate: Number(env.BENCH_SOAK_RATE ?? 40),
    tracing: (env.BENCH_TRACING ?? '1') !== '0',
    amqpUrl: env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}
