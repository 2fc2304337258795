import type pg from 'pg';
import { openLoop, type Send } from './http-load.js';
import { currentRssMb } from './process-usage.js';
import { slope } from './stats.js';

export interface SoakRss {
  firstMinuteAvgMb: number;
  lastMinuteAvgMb: number;
  maxMb: number;
  /** Least-squares slope over the samples after the first minute; null with fewer than two. */
  growthMbPer10Min: number | null;
  samples: number;
  /** Average of each minute, in order: the shape of the curve (warm-up, then flat or rising). */
  perMinuteMb: number[];
}

export interface SoakResult {
  durationMs: number;
  /** Offered orders/s. */
  rate: number;
  sampleIntervalMs: number;
  posts: { offered: number; ok: number; failed: number; rejected: number };
  /** POST /orders p99 of the first chunk, the last, and the worst, ms: drift shows here. */
  postP99Ms: { first: number; last: number; max: number };
  /** Orders created during the soak, read from the orders table once they had ended (or the settle time ran out). */
  sagas: { completed: number; cancelled: number; unfinished: number };
  /** Current RSS (VmRSS) per service over the soak. */
  rssMb: Record<string, SoakRss>;
  /** Rows of the pruned tables at the start and after each chunk (about once a minute): flat once their retention has passed. */
  tableRows?: Array<{ atS: number; rows: Record<string, number> }>;
}

export interface SoakOptions {
  durationMs: number;
  rate: number;
  /** A fresh sender per chunk, so nothing accumulates in the driver over a long soak. */
  makeSend: () => Send;
  /** Pid of each process to sample, read at every sample (a restarted service keeps its name). */
  pids: () => Record<string, number>;
  db: pg.Pool;
  ordersTable: string;
  /** How long to wait, after the load, for the soak's sagas to end. */
  settleMs: number;
  log: (line: string) => void;
  /** @defaultValue 60 000 */
  chunkMs?: number;
  /** @defaultValue 10 000 */
  sampleIntervalMs?: number;
  /** Row counts of the tables the prunes keep from growing, read at the start and after each chunk. */
  tableRows?: () => Promise<Record<string, number>>;
}

const MINUTE_MS = 60_000;

/**
 * A long open-loop run at a fixed rate, in chunks (each waits for its last answers, so the load
 * pauses for about one POST latency between chunks), sampling every service's RSS as it goes; a
 * leak shows as growth after the first minute, which is warm-up (JIT, pools, caches).
 */
export async function soak(options: SoakOptions): Promise<SoakResult> {
  const chunkMs = options.chunkMs ?? MINUTE_MS;
  const sampleIntervalMs = options.sampleIntervalMs ?? 10_000;
  const samples: Array<{ at: number; rss: Record<string, number> }> = [];
  const start = performance.now();
  const sample = () => {
    const rss = Object.fromEntries(Object.entries(options.pids()).map(([name, pid]) => [name, currentRssMb(pid)]));
    samples.push({ at: performance.now() - start, rss });
  };
  const since = await dbNow(options.db);
  const tableRows: NonNullable<SoakResult['tableRows']> = [];
  const readRows = async () => {
    if (!options.tableRows) return;
    const rows = await options.tableRows();
    tableRows.push({ atS: Math.round((performance.now() - start) / 1000), rows });
    options.log(`soak rows: ${JSON.stringify(rows)}`);
  };
  await readRows();
  sample();
  const sampler = setInterval(sample, sampleIntervalMs);
  const posts = { offered: 0, ok: 0, failed: 0, rejected: 0 };
  const p99s: number[] = [];
  try {
    while (performance.now() - start < options.durationMs) {
      const length = Math.min(chunkMs, options.durationMs - (performance.now() - start));
      if (length < 1_000) break;
      const chunk = await openLoop(options.rate, length, options.makeSend());
      posts.offered += chunk.ok + chunk.failed + chunk.rejected;
      posts.ok += chunk.ok;
      posts.failed += chunk.failed;
      posts.rejected += chunk.rejected;
      p99s.push(chunk.latencyMs.p99);
      options.log(`soak ${Math.round((performance.now() - start) / 1000)} s: ${JSON.stringify({ ok: chunk.ok, rejected: chunk.rejected, failed: chunk.failed, p99: chunk.latencyMs.p99 })}`);
      await readRows();
    }
  } finally {
    clearInterval(sampler);
  }
  sample();
  const durationMs = Math.round(performance.now() - start);
  const until = await dbNow(options.db);
  return {
    durationMs,
    rate: options.rate,
    sampleIntervalMs,
    posts,
    postP99Ms: { first: p99s[0] ?? NaN, last: p99s.at(-1) ?? NaN, max: p99s.length ? Math.max(...p99s) : NaN },
    sagas: await sagaCounts(options, since, until),
    rssMb: rssTrends(samples, durationMs),
    ...(options.tableRows ? { tableRows } : {}),
  };
}

/** Per process: first- and last-minute averages, max, and the growth after the first minute. */
export function rssTrends(samples: Array<{ at: number; rss: Record<string, number> }>, durationMs: number): Record<string, SoakRss> {
  const names = Object.keys(samples[0]?.rss ?? {});
  const average = (values: number[]) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10;
  return Object.fromEntries(
    names.map((name) => {
      const points = samples.map((s) => ({ x: s.at, y: s.rss[name] ?? NaN })).filter((p) => Number.isFinite(p.y));
      const afterWarmUp = points.filter((p) => p.x >= MINUTE_MS);
      const growth = slope(afterWarmUp) * 10 * MINUTE_MS;
      return [
        name,
        {
          firstMinuteAvgMb: average(points.filter((p) => p.x < MINUTE_MS).map((p) => p.y)),
          lastMinuteAvgMb: average(points.filter((p) => p.x >= durationMs - MINUTE_MS).map((p) => p.y)),
          maxMb: Math.max(...points.map((p) => p.y)),
          growthMbPer10Min: Number.isFinite(growth) ? Math.round(growth * 10) / 10 : null,
          samples: points.length,
          perMinuteMb: Array.from({ length: Math.ceil(durationMs / MINUTE_MS) }, (_, minute) =>
            average(points.filter((p) => p.x >= minute * MINUTE_MS && p.x < (minute + 1) * MINUTE_MS).map((p) => p.y)),
          ).filter(Number.isFinite),
        },
      ];
    }),
  );
}

async function dbNow(db: pg.Pool): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]!.now;
}

/** Outcome of the orders created in [since, until], once none is open or the settle time has run out. */
async function sagaCounts(options: SoakOptions, since: Date, until: Date): Promise<SoakResult['sagas']> {
  const deadline = Date.now() + options.settleMs;
  for (;;) {
    const { rows } = await options.db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${options.ordersTable} WHERE created_at BETWEEN $1 AND $2 GROUP BY status`,
      [since, until],
    );
    const count = (status?: string) => rows.filter((row) => status === undefined || row.status === status).reduce((sum, row) => sum + Number(row.n), 0);
    const counts = { completed: count('completed'), cancelled: count('cancelled'), unfinished: count() - count('completed') - count('cancelled') };
    if (counts.unfinished === 0 || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
