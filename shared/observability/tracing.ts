import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { Logger } from '../logging/logger.js';

/** Flushes the spans still buffered and stops exporting; resolves when done (or failed). */
export type StopTracing = () => Promise<void>;

/** The exporters that turn tracing on (`zipkin` is not offered: nothing here was tried with it). */
const EXPORTERS = new Set(['otlp', 'console']);

/**
 * Whether the standard variables ask for traces: `OTEL_TRACES_EXPORTER` names `otlp` or `console`
 * (a comma-separated list; `none` anywhere in it wins) and `OTEL_SDK_DISABLED` is not `true`.
 * Unset means off: unlike the SDK's own default (otlp), nothing is exported unless asked for.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase());
  return !exporters.includes('none') && exporters.some((name) => EXPORTERS.has(name));
}

/**
 * Starts OpenTelemetry tracing for one process when the standard variables ask for it
 * ({@link tracingRequested}), and returns how to flush and stop it. Off, it loads nothing,
 * registers nothing and returns a no-op: every span the code makes is then the API's non-recording
 * one, and the trace context carried in outbox rows and headers stays empty.
 *
 * On, the Node SDK reads everything else from the standard variables itself: the exporter
 * (`OTEL_TRACES_EXPORTER`), the OTLP protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`,
 * `http/json` or `grpc`) and endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the `_TRACES_` variants),
 * the sampler (`OTEL_TRACES_SAMPLER`, `_ARG`), the propagators (`OTEL_PROPAGATORS`, W3C trace
 * context and baggage by default), the batch processor (`OTEL_BSP_*`) and resource attributes.
 * `service.name` is `serviceName` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names one.
 *
 * Only traces: metrics are Prometheus's (METRICS_PORT) and logs are JSON lines on stdout, so the
 * SDK gets no metric reader and no log processor (given none, it would start OTLP exporters of its
 * own for both, by default).
 *
 * Spans are made at our own seams, not by auto-instrumentations. Those patch modules as they load,
 * which under ESM needs a loader hook (`--import` of a register script) on every process start,
 * the in-process test stacks included; and the spans that tell a saga's story (the outbox, each
 * publish and each consume, the provider's calls) are at seams no instrumentation knows: an
 * amqplib instrumentation would see a publish on a channel, not the order and the outbox row it
 * came from, and could not carry the context through the outbox's deferred publish or the sweep.
 */
export async function startTracing(
  serviceName: string,
  options: {
    /** @defaultValue process.env */
    env?: NodeJS.ProcessEnv;
    /** Makes the logger the SDK's warnings and errors go to (only when tracing is on). */
    logger?: () => Logger;
  } = {},
): Promise<StopTracing> {
  const env = options.env ?? process.env;
  if (!tracingRequested(env)) return async () => undefined;
  // Loaded only when on: the SDK and its exporters are a lot of modules to load for nothing.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const logger = options.logger?.();
  if (logger && !env.OTEL_LOG_LEVEL) {
    // The SDK reports failed exports through its diagnostic logger, silent unless one is set: an
    // unreachable collector should show in the service's log. OTEL_LOG_LEVEL sets the SDK's own instead.
    diag.setLogger(diagLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  }
  const named = Boolean(env.OTEL_SERVICE_NAME?.trim()) || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName }),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return () => (stopped ??= sdk.shutdown().catch((error: unknown) => logger?.warn('tracing did not shut down cleanly', { error })));
}

/** The SDK's diagnostics, at warn and error, as log lines of the service. */
function diagLogger(logger: Logger): DiagLogger {
  const none = () => undefined;
  const line = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) =>
    logger[level](`opentelemetry: ${message}`, args.length > 0 ? { detail: args.map((arg) => (arg instanceof Error ? arg : String(arg))) } : {});
  return { error: line('error'), warn: line('warn'), info: none, debug: none, verbose: none };
}
