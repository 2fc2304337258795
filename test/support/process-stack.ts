import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { putProviderFaults } from './provider-faults.js';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { TestBroker } from './broker.js';
import { waitFor } from './wait-for.js';

export type ProcessName = (typeof SAGA_SERVICES)[number] | 'payment-provider';
export const ALL_PROCESSES: ProcessName[] = ['payment-provider', 'inventory-service', 'payment-service', 'shipping-service', 'order-service'];

const root = path.resolve(import.meta.dirname, '..', '..');
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Delay queues to clean up: the most any service declares (payment-service: 10 attempts). */
const MAX_RETRY_LEVELS = 9;
/** Where each stack's log files go, one directory per namespace (kept with the namespace after a failure). */
export const FAULT_RUNS_DIR = path.join(tmpdir(), 'fault-runs');
/** The file that marks a stack's log directory as stopped and kept (what is known about why goes in it). */
export const KEPT_MARKER = 'KEPT.txt';
const NAMESPACE = /^f[0-9a-f]{8}_$/;

/** `count` distinct free loopback ports (all held open together, so none is handed out twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export interface ProcessStackOptions {
  /** Before the script on every service's command line (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Runs the compiled services (`npm run build` → dist/), as the image does, instead of the sources through tsx. */
  compiled?: boolean;
  /**
   * The mock provider's database, when it should not share the services' (the bench counts each
   * side's Postgres transactions apart). @defaultValue DATABASE_URL
   */
  providerDatabaseUrl?: string;
  /** The broker the services and the test's own connection use: one URL or a cluster's comma-separated list. @defaultValue AMQP_URL, else the local broker */
  amqpUrl?: string;
}

/**
 * The system with every service as its own OS process (as in production), under a random
 * namespace, for fault scenarios: services can be SIGKILLed, SIGTERMed and restarted on their port.
 * Each process's output goes to a log file, scanned afterwards for secrets.
 */
export class ProcessStack {
  private readonly children = new Map<ProcessName, ChildProcess>();
  private readonly logStreams = new Map<ProcessName, WriteStream>();
  /** This stack's log files, one per process: {@link FAULT_RUNS_DIR}/<namespace>/<process>.log. */
  readonly logDir: string;
  readonly providerApiKey = 'sk_test_fault_suite_key';

  private constructor(
    readonly namespace: string,
    private readonly ports: Record<ProcessName, number>,
    private readonly metricsPorts: Record<ProcessName, number>,
    readonly db: pg.Pool,
    readonly broker: TestBroker,
    private readonly extraEnv: Record<string, string>,
    private readonly options: ProcessStackOptions,
  ) {
    this.logDir = path.join(FAULT_RUNS_DIR, namespace);
    mkdirSync(this.logDir, { recursive: true });
  }

  static async start(extraEnv: Record<string, string> = {}, options: ProcessStackOptions = {}): Promise<ProcessStack> {
    const free = await freePorts(2 * ALL_PROCESSES.length);
    const ports = Object.fromEntries(ALL_PROCESSES.map((name, i) => [name, free[i]])) as Record<ProcessName, number>;
    const metricsPorts = Object.fromEntries(ALL_PROCESSES.map((name, i) => [name, free[ALL_PROCESSES.length + i]])) as Record<ProcessName, number>;
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    db.on('error', () => undefined);
    const namespace = `f${randomBytes(4).toString('hex')}_`;
    const stack = new ProcessStack(namespace, ports, metricsPorts, db, await TestBroker.connect(options.amqpUrl ?? AMQP_URL, namespace), extraEnv, options);
    try {
      for (const name of ALL_PROCESSES) await stack.launch(name);
    } catch (error) {
      // Nothing is left running; the logs (the error names the one to read) and the namespace are kept.
      await stack.stop({ keep: true }).catch(() => undefined);
      throw error;
    }
    return stack;
  }

  get orderApi(): string {
    return `http://127.0.0.1:${this.ports['order-service']}`;
  }

  get providerUrl(): string {
    return `http://127.0.0.1:${this.ports['payment-provider']}`;
  }

  /** The broker this stack's services use (one URL or a cluster's comma-separated list). */
  get amqpUrl(): string {
    return this.options.amqpUrl ?? AMQP_URL;
  }

  url(name: ProcessName): string {
    return `http://127.0.0.1:${this.ports[name]}`;
  }

  /** Where a service serves its Prometheus metrics (`/metrics` under it). */
  metricsUrl(name: ProcessName): string {
    return `http://127.0.0.1:${this.metricsPorts[name]}`;
  }

  table(owner: ProcessName | 'dead-letters', name: string): string {
    return `"${this.namespace}${owner.replace(/-/g, '_')}"."${name}"`;
  }

  /** Starts one service process and waits until it answers /healthz. */
  async launch(name: ProcessName): Promise<void> {
    const stream = this.logStreams.get(name) ?? createWriteStream(path.join(this.logDir, `${name}.log`), { flags: 'a' });
    this.logStreams.set(name, stream);
    const entry = this.options.compiled
      ? [path.join(root, 'dist', 'services', name, 'main.js')]
      : ['--import', 'tsx', path.join(root, 'services', name, 'main.ts')];
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), ...entry], {
      env: {
        ...process.env,
        NAMESPACE: this.namespace,
        PORT: String(this.ports[name]),
        METRICS_PORT: String(this.metricsPorts[name]),
        AMQP_URL: this.options.amqpUrl ?? AMQP_URL,
        DATABASE_URL: name === 'payment-provider' ? (this.options.providerDatabaseUrl ?? DATABASE_URL) : DATABASE_URL,
        PAYMENT_PROVIDER_URL: this.providerUrl,
        ORDER_SERVICE_URL: this.orderApi,
        PAYMENT_PROVIDER_API_KEY: this.providerApiKey,
        FAULT_INJECTION_ENABLED: 'true',
        MESSAGE_RETRY_BASE_MS: '200',
        OUTBOX_SWEEP_MS: '500',
        DEADLINE_SWEEP_MS: '1000',
        // Every order ends within the scenario's bound, even one whose charge was dead-lettered.
        SAGA_TIMEOUT_MS: '30000',
        // The invariant checks run the reconciliation themselves, once the last changes are 1 s old.
        RECONCILE_INTERVAL: 'off',
        RECONCILE_GRACE: '1s',
        LOG_LEVEL: 'info',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(stream, { end: false });
    child.stderr?.pipe(stream, { end: false });
    this.children.set(name, child);
    child.once('exit', () => {
      if (this.children.get(name) === child) this.children.delete(name);
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: see ${this.logDir}/${name}.log`);
        return (await fetch(`${this.url(name)}/healthz`)).ok;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${name} to start` },
    );
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(name: ProcessName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(name);
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  /** The OS process id of a running service (undefined when it is not running). */
  pid(name: ProcessName): number | undefined {
    return this.children.get(name)?.pid;
  }

  /** Replaces the provider's fault settings (`{}` clears them). */
  async setProviderFaults(faults: object): Promise<void> {
    await putProviderFaults(this, faults);
  }

  /** The provider's call gauge (open requests, their peak, requests the client abandoned); `reset` starts anew. */
  async providerCalls(reset = false): Promise<{ in_flight: number; max_in_flight: number; abandoned: number }> {
    const response = await fetch(`${this.providerUrl}/_faults/calls`, {
      method: reset ? 'DELETE' : 'GET',
      headers: { authorization: `Bearer ${this.providerApiKey}` },
    });
    return (await response.json()) as { in_flight: number; max_in_flight: number; abandoned: number };
  }

  /** Every log line written so far by every process (or by the named ones). */
  logLines(names: ProcessName[] = ALL_PROCESSES): string[] {
    return names.flatMap((name) => {
      try {
        return readFileSync(path.join(this.logDir, `${name}.log`), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    });
  }

  /**
   * Stops every process, then deletes the namespace (queues, exchanges, schemas) and the log
   * directory, unless `keep` leaves them for a post-mortem, marked with {@link KEPT_MARKER}
   * ({@link ProcessStack.discard} deletes them later).
   */
  async stop(options: { /** @defaultValue false */ keep?: boolean } = {}): Promise<void> {
    for (const name of [...ALL_PROCESSES].reverse()) await this.kill(name, 'SIGTERM');
    await Promise.all([...this.logStreams.values()].map((stream) => new Promise((resolve) => stream.end(resolve))));
    if (options.keep) {
      writeFileSync(
        path.join(this.logDir, KEPT_MARKER),
        `namespace ${this.namespace} kept when its stack stopped at ${new Date().toISOString()}; delete it with: npx tsx test/faults/discard-kept-runs.ts ${this.namespace}\n`,
      );
    } else {
      await discardNamespace(this.namespace, this.db, this.broker);
    }
    await this.broker.close();
    await this.db.end();
  }

  /** Deletes what a stack kept after {@link ProcessStack.stop} with `keep` (its processes are gone). */
  static async discard(namespace: string, options: Pick<ProcessStackOptions, 'amqpUrl'> = {}): Promise<void> {
    if (!NAMESPACE.test(namespace)) throw new Error(`not a process stack's namespace: ${namespace}`);
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    db.on('error', () => undefined);
    const broker = await TestBroker.connect(options.amqpUrl ?? AMQP_URL, namespace);
    try {
      await discardNamespace(namespace, db, broker);
    } finally {
      await broker.close();
      await db.end();
    }
  }
}

async function discardNamespace(namespace: string, db: pg.Pool, broker: TestBroker): Promise<void> {
  await broker.deleteTopology([...SAGA_SERVICES], MAX_RETRY_LEVELS).catch(() => undefined);
  for (const owner of [...ALL_PROCESSES, 'dead-letters', 'jobs']) {
    await db.query(`DROP SCHEMA IF EXISTS "${namespace}${owner.replace(/-/g, '_')}" CASCADE`);
  }
  rmSync(path.join(FAULT_RUNS_DIR, namespace), { recursive: true, force: true });
}
