import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Peak resident set (VmHWM) of a process, in MB; NaN when it is gone. */
export function peakRssMb(pid: number): number {
  return statusMb(pid, 'VmHWM');
}

/** Current resident set (VmRSS) of a process, in MB (one decimal); NaN when it is gone. */
export function currentRssMb(pid: number): number {
  return statusMb(pid, 'VmRSS', 10);
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS', scale = 1): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * scale) / scale : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids whose command name is `comm` (e.g. `postgres`, `beam.smp`, `redis-server`). */
export function pidsNamed(comm: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
}

/**
 * CPU used by named groups of processes over a phase, as a share of one core (100 = one core busy),
 * so where the time goes can be read beside the throughput.
 */
export class CpuSampler {
  private readonly before = new Map<string, number>();
  private started = 0;

  constructor(private readonly groups: () => Record<string, number[]>) {}

  start(): void {
    this.started = performance.now();
    for (const [name, pids] of Object.entries(this.groups())) this.before.set(name, sum(pids.map(cpuSeconds)));
  }

  stop(): Record<string, number> {
    const seconds = (performance.now() - this.started) / 1000;
    const result: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups())) {
      result[name] = Math.round(((sum(pids.map(cpuSeconds)) - (this.before.get(name) ?? 0)) / seconds) * 100);
    }
    return result;
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
