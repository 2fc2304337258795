import { isDependencyUnavailableError } from '../errors/dependency-unavailable-error.js';
import { isConfigError } from '../config/load-env.js';
import type { RunningService } from './running-service.js';

/**
 * The body of every service's main.ts: starts the service, stops it gracefully on SIGTERM/SIGINT,
 * and turns a missing backing server or a bad configuration into one clear line on stderr
 * (no stack trace) and exit code 1.
 */
export async function runMain(name: string, start: () => Promise<RunningService>): Promise<void> {
  let service: RunningService;
  try {
    service = await start();
  } catch (error) {
    if (isDependencyUnavailableError(error)) {
      process.stderr.write(`${name}: ${error.dependency} is unreachable (${error.context.target ?? ''}); ${error.hint}\n`);
    } else if (isConfigError(error)) {
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      process.stderr.write(`${name}: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // A second signal while draining forces the exit.
    process.once(signal, () => process.exit(1));
    service
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`${name}: error while stopping: ${String(error)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
