import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConfigError } from '../config/load-env.js';
import type { Logger } from '../logging/logger.js';

/**
 * Prometheus metrics, through prom-client. Names and labels follow OpenTelemetry's semantic
 * conventions in Prometheus form (`http.server.request.duration` → `http_server_request_duration_seconds`,
 * attribute `http.route` → label `http_route`), in base units (seconds, bytes). Labels never carry
 * an order, customer or payment id: every label has a small, fixed set of values.
 *
 * Each service has a registry of its own (not prom-client's global one): the test stacks run all
 * five services in one process, and each must show only its own figures.
 */
export type MetricsRegistry = Registry;

/** OpenTelemetry's recommended boundaries for HTTP durations (seconds). */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** A message's handling, from delivery to ack (seconds): the HTTP ones, plus the tail of retries and slow commits. */
export const PROCESS_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A registry with Node.js's runtime metrics (CPU, memory, heap, event-loop lag, GC) already in it. */
export function createMetricsRegistry(): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Labels of the body byte counters: `messaging_operation_type` send or receive (OpenTelemetry's
 * values), the exchange or queue, and `encoding` identity, gzip or other (an unknown content
 * encoding, received only).
 */
type BodyBytesLabel = 'messaging_operation_type' | 'messaging_destination_name' | 'encoding';
const BODY_BYTES_LABELS: BodyBytesLabel[] = ['messaging_operation_type', 'messaging_destination_name', 'encoding'];

/** Counters and durations of a service's messaging: what it publishes, consumes, retries and dead-letters. */
export class MessagingMetrics {
  readonly processDuration: Histogram<'messaging_destination_name' | 'event_type' | 'outcome'>;
  readonly sent: Counter<'messaging_destination_name' | 'event_type'>;
  readonly consumed: Counter<'messaging_destination_name' | 'event_type'>;
  readonly retries: Counter<'messaging_destination_name' | 'event_type'>;
  readonly deadLetters: Counter<'messaging_destination_name' | 'reason'>;
  /** Event bodies as JSON, before compression on publish and after decompression on receipt. */
  readonly bodyBytes: Counter<BodyBytesLabel>;
  /** The same bodies as they travel: gzip'd ones compressed, the others as they are. */
  readonly wireBytes: Counter<BodyBytesLabel>;

  constructor(registry: MetricsRegistry) {
    const registers = [registry];
    this.processDuration = new Histogram({
      name: 'messaging_process_duration_seconds',
      help: 'Time from the delivery of a message to its settlement (ack, retry or dead letter).',
      labelNames: ['messaging_destination_name', 'event_type', 'outcome'],
      buckets: PROCESS_DURATION_BUCKETS,
      registers,
    });
    this.sent = new Counter({
      name: 'messaging_client_sent_messages_total',
      help: 'Events published and confirmed by the broker (retries and dead letters not included).',
      labelNames: ['messaging_destination_name', 'event_type'],
      registers,
    });
    this.consumed = new Counter({
      name: 'messaging_client_consumed_messages_total',
      help: 'Messages delivered to this service, whatever became of them.',
      labelNames: ['messaging_destination_name', 'event_type'],
      registers,
    });
    this.retries = new Counter({
      name: 'messaging_retries_total',
      help: 'Messages whose handler failed and that were sent to a delay queue to be tried again.',
      labelNames: ['messaging_destination_name', 'event_type'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'dead_letters_total',
      help: 'Messages moved to the dead-letter queue, by reason.',
      labelNames: ['messaging_destination_name', 'reason'],
      registers,
    });
    // Two counters, not one with a stage label: a sum over every label of either still means something.
    this.bodyBytes = new Counter({
      name: 'messaging_message_body_bytes_total',
      help:
        'Bytes of event bodies as JSON (uncompressed), published (send: confirmed events, as messaging_client_sent_messages_total counts them) ' +
        'or received (receive: every delivery whose body could be decoded), by the content encoding it travelled in.',
      labelNames: BODY_BYTES_LABELS,
      registers,
    });
    this.wireBytes = new Counter({
      name: 'messaging_message_wire_bytes_total',
      help:
        'Bytes of the same event bodies as they travel (gzip: compressed; identity: the JSON as it is); received ones counted ' +
        'even when they could not be decoded. wire / body, by encoding, is the compression ratio.',
      labelNames: BODY_BYTES_LABELS,
      registers,
    });
  }
}

/**
 * A gauge whose values are read when Prometheus scrapes (a query, a broker call), at most once per
 * `minIntervalMs`: scrapers that come together (two Prometheus servers) share one read.
 * A failed read leaves the last values in place (the failure is logged at debug level); the
 * dependency's own alerts tell that it is down.
 */
export function sampledGauge<L extends string>(options: {
  registry: MetricsRegistry;
  name: string;
  help: string;
  labelNames?: L[];
  read: () => Promise<Array<{ labels?: Partial<Record<L, string>>; value: number }>>;
  logger: Pick<Logger, 'debug'>;
  minIntervalMs?: number;
}): Gauge<L> {
  const minIntervalMs = options.minIntervalMs ?? 100;
  let last = 0;
  let reading: Promise<void> | undefined;
  return new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [options.registry],
    async collect() {
      if (Date.now() - last < minIntervalMs) return;
      reading ??= options
        .read()
        .then((samples) => {
          last = Date.now();
          for (const sample of samples) {
            if (sample.labels) this.set(sample.labels as never, sample.value);
            else this.set(sample.value);
          }
        })
        .catch((error: unknown) => options.logger.debug('metric not read', { metric: options.name, error }))
        .finally(() => (reading = undefined));
      await reading;
    },
  });
}

export interface MetricsServer {
  /** `http://host:port`, or undefined when metrics are off (METRICS_PORT=0). */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text) on a listener of its own, never the public API's.
 * `port` 0 turns it off. A port already taken stops the start with one line naming METRICS_PORT
 * (two instances on one host each need their own).
 */
export async function startMetricsServer(options: {
  registry: MetricsRegistry;
  port: number;
  host: string;
  logger: Logger;
}): Promise<MetricsServer> {
  const { registry, port, host, logger } = options;
  if (port === 0) return { url: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        logger.warn('metrics not collected', { error });
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  server.keepAliveTimeout = 65_000; // longer than any scrape interval: Prometheus keeps its connection
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new ConfigError(`METRICS_PORT ${port} is already in use on ${host}: give this instance a free port (or 0 to turn metrics off)`));
      } else if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL') {
        reject(new ConfigError(`METRICS_PORT ${port} on ${host} cannot be bound (${error.code})`));
      } else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info('metrics served', { url: `${url}/metrics` });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
