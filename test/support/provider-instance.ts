import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPaymentProvider } from '../../services/payment-provider/app.js';
import { loadPaymentProviderConfig } from '../../services/payment-provider/config.js';
import type { RunningService } from '../../shared/startup/running-service.js';
import { LogCapture } from './log-capture.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const PROVIDER_KEY = 'sk_test_provider_suite_key';

/** One mock provider in-process, in its own schema; `stop()` drops the schema. */
export class ProviderInstance {
  readonly logs = new LogCapture();
  private constructor(
    readonly service: RunningService,
    readonly db: pg.Pool,
    readonly schema: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<ProviderInstance> {
    const namespace = `p${randomBytes(4).toString('hex')}_`;
    const logs = new LogCapture();
    const service = await startPaymentProvider(
      loadPaymentProviderConfig({ NAMESPACE: namespace, PORT: '0', DATABASE_URL, PAYMENT_PROVIDER_API_KEY: PROVIDER_KEY, ...env }),
      { logger: logs.loggerFor('payment-provider') },
    );
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    db.on('error', () => undefined);
    return new ProviderInstance(service, db, `${namespace}payment_provider`);
  }

  get url(): string {
    return this.service.url;
  }

  /** A request with the API key (unless headers override it). */
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${PROVIDER_KEY}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async count(table: 'payments' | 'refunds', where = 'true', params: unknown[] = []): Promise<number> {
    const { rows } = await this.db.query(`SELECT count(*)::int AS n FROM "${this.schema}".${table} WHERE ${where}`, params);
    return rows[0].n as number;
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await this.db.end();
  }
}
