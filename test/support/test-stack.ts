import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RunningService } from '../../shared/startup/running-service.js';
import { startInventoryService } from '../../services/inventory-service/app.js';
import { loadInventoryConfig } from '../../services/inventory-service/config.js';
import { startOrderService, type RunningOrderService } from '../../services/order-service/app.js';
import { loadOrderConfig } from '../../services/order-service/config.js';
import { startPaymentProvider } from '../../services/payment-provider/app.js';
import { loadPaymentProviderConfig } from '../../services/payment-provider/config.js';
import { startPaymentService } from '../../services/payment-service/app.js';
import { loadPaymentConfig } from '../../services/payment-service/config.js';
import { startShippingService } from '../../services/shipping-service/app.js';
import { loadShippingConfig } from '../../services/shipping-service/config.js';
import { SAGA_SERVICES, type SagaService } from '../../shared/contracts/saga.js';
import { TestBroker } from './broker.js';
import { LogCapture } from './log-capture.js';
import { putProviderFaults } from './provider-faults.js';

export type ServiceName = SagaService | 'payment-provider';
/** Owners of a Postgres schema: the services, and the dead-letter archive. */
export type SchemaOwner = ServiceName | 'dead-letters';

const env = process.env;
const AMQP_URL = env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Handler attempts of every in-process service (the retry queues a stack's stop deletes follow from it). */
export const MAX_ATTEMPTS = 4;

/**
 * True when the suite targets a stack someone else started (docker compose): ORDER_API_URL,
 * PAYMENT_PROVIDER_URL and the connection strings then come from the environment, and tests
 * that must stop a service in-process are skipped.
 */
export const EXTERNAL_STACK = Boolean(env.ORDER_API_URL);

/**
 * One isolated system for one test file: every service started in-process against the real
 * RabbitMQ, Postgres and Redis, under a random namespace (schemas, exchange, queues), or the
 * external stack described by environment variables. `stop()` removes what it created.
 */
export class TestStack {
  readonly logs = new LogCapture();
  private readonly running = new Map<ServiceName, RunningService>();
  orderApi = env.ORDER_API_URL ?? '';
  providerUrl = env.PAYMENT_PROVIDER_URL ?? '';
  readonly providerApiKey = env.PAYMENT_PROVIDER_API_KEY ?? 'sk_test_local_provider_key';

  private constructor(
    readonly namespace: string,
    readonly db: pg.Pool,
    readonly broker: TestBroker,
    private readonly overrides: Record<string, string>,
  ) {}

  /**
   * @param overrides environment variables for every in-process service
   * @param options.services which services to start now (others can be started later with
   *   startService) @defaultValue all of them
   */
  static async start(
    overrides: Record<string, string> = {},
    options: { services?: readonly ServiceName[] } = {},
  ): Promise<TestStack> {
    const namespace = EXTERNAL_STACK ? (env.NAMESPACE ?? '') : `t${randomBytes(4).toString('hex')}_`;
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    db.on('error', () => undefined);
    const stack = new TestStack(namespace, db, await TestBroker.connect(AMQP_URL, namespace), overrides);
    if (!EXTERNAL_STACK) {
      const wanted = new Set(options.services ?? ['payment-provider', ...SAGA_SERVICES]);
      // The provider first: payment-service is configured with its address.
      for (const service of ['payment-provider', ...SAGA_SERVICES] as const) {
        if (wanted.has(service)) await stack.startService(service);
      }
    }
    return stack;
  }

  /** The environment an in-process service is configured from. */
  private serviceEnv(port: number): NodeJS.ProcessEnv {
    return {
      NAMESPACE: this.namespace,
      AMQP_URL,
      DATABASE_URL,
      REDIS_URL,
      PORT: String(port),
      // Off: every service of every stack runs in this one process, and the defaults are fixed ports.
      // A test that scrapes gives each service a free port of its own (overrides).
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      OUTBOX_SWEEP_MS: '200',
      MESSAGE_RETRY_BASE_MS: '100',
      MESSAGE_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      DB_POOL_SIZE: '4',
      PAYMENT_PROVIDER_URL: this.providerUrl,
      PAYMENT_PROVIDER_API_KEY: this.providerApiKey,
      // order-service starts first: payment-service's reconciliation asks it about orders.
      ORDER_SERVICE_URL: this.orderApi,
      FAULT_INJECTION_ENABLED: 'true',
      DEADLINE_SWEEP_MS: '500',
      // The reconciliation runs when a test asks (the invariant checks do), over changes 1 s old.
      RECONCILE_INTERVAL: 'off',
      RECONCILE_GRACE: '1s',
      ...this.overrides,
    };
  }

  /** Starts (or restarts) one service in-process. */
  async startService(name: ServiceName): Promise<void> {
    if (EXTERNAL_STACK) throw new Error('cannot start services of an external stack');
    const logger = this.logs.loggerFor(name);
    let service: RunningService;
    switch (name) {
      case 'payment-provider':
        service = await startPaymentProvider(loadPaymentProviderConfig(this.serviceEnv(0)), { logger });
        this.providerUrl = service.url;
        break;
      case 'order-service':
        service = await startOrderService(loadOrderConfig(this.serviceEnv(0)), { logger });
        this.orderApi = service.url;
        break;
      case 'inventory-service':
        service = await startInventoryService(loadInventoryConfig(this.serviceEnv(0)), { logger });
        break;
      case 'payment-service':
        service = await startPaymentService(loadPaymentConfig(this.serviceEnv(0)), { logger });
        break;
      case 'shipping-service':
        service = await startShippingService(loadShippingConfig(this.serviceEnv(0)), { logger });
        break;
    }
    this.running.set(name, service);
  }

  /**
   * Another instance of order-service on the same namespace, with its own port, pool, cache and
   * change feed, as a second process would have; not stopped by {@link stop}: the caller stops it.
   */
  async startOrderServiceInstance(overrides: Record<string, string> = {}): Promise<RunningOrderService> {
    if (EXTERNAL_STACK) throw new Error('cannot start services of an external stack');
    return startOrderService(loadOrderConfig({ ...this.serviceEnv(0), ...overrides }), { logger: this.logs.loggerFor('order-service') });
  }

  /** Replaces the in-process provider's fault settings (`{}` clears them). */
  async setProviderFaults(faults: object): Promise<void> {
    await putProviderFaults(this, faults);
  }

  /** Stops one in-process service gracefully. */
  async stopService(name: ServiceName): Promise<void> {
    const service = this.running.get(name);
    this.running.delete(name);
    await service?.stop();
  }

  /** The running in-process service (its runtime, for tests that drive parts of it directly). */
  service(name: ServiceName): RunningService {
    const service = this.running.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service;
  }

  isRunning(name: ServiceName): boolean {
    return this.running.has(name);
  }

  /** inventory-service's own figure of available stock (the source of truth, not the read model). */
  async stockOf(sku: string): Promise<number> {
    const { rows } = await this.db.query(`SELECT available FROM ${this.table('inventory-service', 'stock')} WHERE sku = $1`, [sku]);
    if (!rows[0]) throw new Error(`no stock row for ${sku}`);
    return rows[0].available as number;
  }

  /** Whether a service has applied the event (its inbox holds the id). */
  async handled(service: SchemaOwner, eventId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(`SELECT 1 FROM ${this.table(service, 'inbox')} WHERE event_id = $1`, [eventId]);
    return rowCount === 1;
  }

  /** Schema-qualified table name of a service's table, e.g. table('inventory-service', 'stock'). */
  table(service: SchemaOwner, name: string): string {
    return `"${this.namespace}${service.replace(/-/g, '_')}"."${name}"`;
  }

  async stop(): Promise<void> {
    for (const name of [...this.running.keys()].reverse()) await this.stopService(name);
    if (!EXTERNAL_STACK) {
      // A fresh connection: the test's own may have been closed by a broker outage it caused.
      const cleaner = await TestBroker.connect(AMQP_URL, this.namespace);
      await cleaner.deleteTopology([...SAGA_SERVICES], MAX_ATTEMPTS - 1);
      await cleaner.close();
      for (const service of [...SAGA_SERVICES, 'payment-provider', 'dead-letters', 'jobs']) {
        await this.db.query(`DROP SCHEMA IF EXISTS "${this.namespace}${service.replace(/-/g, '_')}" CASCADE`);
      }
    }
    await this.broker.close();
    await this.db.end();
  }
}
