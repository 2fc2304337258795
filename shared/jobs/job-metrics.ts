import { Histogram } from 'prom-client';
import type { MetricsRegistry } from '../observability/metrics.js';

/**
 * `job_run_duration_seconds{job_name, outcome}`: each run of a background job, `completed` or
 * `failed` (a failed run is retried with backoff; its count is the retries).
 */
export function jobMetrics(registry: MetricsRegistry): (queue: string, outcome: 'completed' | 'failed', seconds: number) => void {
  const duration = new Histogram({
    name: 'job_run_duration_seconds',
    help: 'Duration of background job runs, by job and outcome.',
    labelNames: ['job_name', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.25, 1, 5, 30, 120, 600],
    registers: [registry],
  });
  return (queue, outcome, seconds) => duration.observe({ job_name: queue, outcome }, seconds);
}
