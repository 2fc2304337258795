import { isDependencyTlsError } from '../errors/dependency-tls-error.js';
import { isDependencyUnavailableError } from '../errors/dependency-unavailable-error.js';
import { isConfigError } from '../config/load-env.js';
import { createLogger } from '../logging/logger.js';
import { startTracing, type StopTracing } from '../observability/tracing.js';
import type { RunningService } from './running-service.js';

/** How long an exit waits for the last spans to be exported (a collector that is down must not hold a stop). */
const TRACE_FLUSH_MS = 5_000;

/**
 * The body of every service's main.ts: starts the service, stops it gracefully on SIGTERM/SIGINT,
 * and turns a missing backing server, a failed TLS connection to one or a bad configuration into
 * one clear line on stderr (no stack trace) and exit code 1. Tracing (off unless
 * OTEL_TRACES_EXPORTER asks for it) starts before the service and is flushed after it stopped,
 * just before the process exits.
 */
export async function runMain(name: string, start: () => Promise<RunningService>): Promise<void> {
  let service: RunningService | undefined;
  let stopTracing: StopTracing = async () => undefined;
  // Listening from the first moment: a SIGTERM that arrives while the service starts (an orchestrator
  // giving up on a slow start, a test that saw /healthz before the jobs started) stops it once it
  // has started, gracefully, instead of killing it half way.
  let requested: string | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    if (service === undefined) {
      if (requested !== undefined) process.exit(1);
      requested = signal;
      return;
    }
    stopping = true;
    // A second signal while draining forces the exit.
    process.once(signal, () => process.exit(1));
    service
      .stop()
      .then(
        () => 0,
        (error: unknown) => {
          process.stderr.write(`${name}: error while stopping: ${String(error)}\n`);
          return 1;
        },
      )
      // The spans of the drain itself (the last messages and requests) end before this flush.
      .then(async (code) => {
        await flush(stopTracing);
        process.exit(code);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    stopTracing = await startTracing(name, { logger: () => createLogger({ service: name, level: 'warn' }) });
    service = await start();
  } catch (error) {
    if (isDependencyUnavailableError(error)) {
      process.stderr.write(`${name}: ${error.dependency} is unreachable (${error.context.target ?? ''}); ${error.hint}\n`);
    } else if (isDependencyTlsError(error)) {
      process.stderr.write(`${name}: ${error.message}; ${error.hint}\n`);
    } else if (isConfigError(error)) {
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      process.stderr.write(`${name}: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
    await flush(stopTracing);
    process.exit(1);
  }
  if (requested !== undefined) stop(requested);
}

/** Exports what spans are left, for at most TRACE_FLUSH_MS. */
async function flush(stopTracing: StopTracing): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([stopTracing(), new Promise<void>((resolve) => (timer = setTimeout(resolve, TRACE_FLUSH_MS)))]);
  clearTimeout(timer);
}
