import { Type } from '@sinclair/typebox';
import { AMQP_URL_PATTERN } from './amqp-urls.js';
import { retentionEnv } from './retention-env.js';
import { amqpTlsEnv } from './tls-env.js';

/**
 * Environment variables every service reads. Services spread these into their own schema.
 * NAMESPACE prefixes every Postgres schema, exchange, queue and Redis key, so that several
 * isolated stacks (one per integration test) share the same servers.
 */
export const commonEnv = {
  NAMESPACE: Type.String({ default: '', pattern: '^[a-z0-9_]*$', maxLength: 30 }),
  /** One broker, or the nodes of a cluster as a comma-separated list (connects to any live one). */
  AMQP_URL: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672', pattern: AMQP_URL_PATTERN }),
  /** TLS for `amqps://` nodes: AMQP_TLS_CA_FILE, AMQP_TLS_CERT_FILE, AMQP_TLS_KEY_FILE, AMQP_TLS_KEY_PASSPHRASE (tls-env.ts). */
  ...amqpTlsEnv,
  /**
   * node-postgres connection string. TLS is set in it, libpq style: `?sslmode=verify-full&sslrootcert=<CA file>`
   * (and `sslcert`/`sslkey` for a client certificate); without `sslmode`, plain text.
   */
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/postgres' }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')],
    { default: 'info' },
  ),
  /** Messages a consumer holds unacknowledged at once (the step lane: forward steps). */
  AMQP_PREFETCH: Type.Integer({ default: 32, minimum: 1, maximum: 1000 }),
  /** The same for the compensation lane, consumed beside it (cancellations, refunds, releases). */
  AMQP_COMPENSATION_PREFETCH: Type.Integer({ default: 16, minimum: 1, maximum: 1000 }),
  /** Handler attempts before a message is dead-lettered (first try included). */
  MESSAGE_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 20 }),
  /** First retry delay; each later one doubles, with jitter. */
  MESSAGE_RETRY_BASE_MS: Type.Integer({ default: 500, minimum: 10, maximum: 600_000 }),
  /**
   * Event bodies larger than this many bytes (their JSON) are published gzip'd, with the AMQP
   * property `content_encoding: gzip`; every consumer reads both forms. 0: never compress. At
   * most 128 MiB, RabbitMQ's largest message.
   */
  MESSAGE_COMPRESS_BYTES: Type.Integer({ default: 0, minimum: 0, maximum: 134_217_728 }),
  /** How often the outbox relay sweeps for rows not yet published (it also runs right after each commit). */
  OUTBOX_SWEEP_MS: Type.Integer({ default: 1000, minimum: 10, maximum: 60_000 }),
  /** OUTBOX_RETENTION, INBOX_RETENTION and RETENTION_INTERVAL (retention-env.ts). */
  ...retentionEnv,
  /** How often an idle job worker looks for due jobs (and the cron schedule is checked). */
  JOBS_POLL_MS: Type.Integer({ default: 2_000, minimum: 500, maximum: 60_000 }),
  /**
   * How often each instance reports its status (queues, lanes, outbox, breakers, throughput) on the
   * status exchange, for the console's Services page. 0: no reports.
   */
  STATUS_INTERVAL_MS: Type.Integer({ default: 5_000, minimum: 0, maximum: 60_000 }),
  DB_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
  /**
   * Most message handlers' transactions committed as one (group commit: only those already
   * waiting, never waiting for more); 1 commits each on its own.
   */
  DB_BATCH_MAX: Type.Integer({ default: 64, minimum: 1, maximum: 1000 }),
  /** Such batches in flight at once, each for its own share of the orders (1 in inventory-service). */
  DB_BATCH_LANES: Type.Integer({ default: 2, minimum: 1, maximum: 64 }),
  /** Port of the HTTP listener (the API for order-service and the provider; health for the others). */
  PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
  /**
   * Port of the Prometheus listener (`GET /metrics`, on HOST), never the API's; each service has its
   * own default, and two instances on one host need one each. 0: no metrics listener.
   */
  METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Address the HTTP listener binds to (0.0.0.0 in a container). */
  HOST: Type.String({ default: '127.0.0.1' }),
};
