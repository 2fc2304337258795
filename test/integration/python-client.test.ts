import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPaymentProvider } from '../../services/payment-provider/app.js';
import { loadPaymentProviderConfig } from '../../services/payment-provider/config.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import type { RunningService } from '../../shared/startup/running-service.js';

/**
 * Interop: the payment adapter's Python client (`HTTPClient` + `StripePaymentService`, kept unchanged
 * in test/fixtures/python/payment_adapter.py) charges through the mock provider. The driver only
 * supplies what that module leaves to its caller (`PaymentProcessingError`) before exec'ing it.
 */
const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const APT = 'apt-get update && apt-get install -y python3-httpx python3-tenacity';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const API_KEY = 'sk_test_local_provider_key';
const ADAPTER = repoPath('test/fixtures/python/payment_adapter.py');

const DRIVER = `
import asyncio, json, sys
from decimal import Decimal

class PaymentProcessingError(Exception):
    pass

namespace = {"__name__": "payment_adapter", "PaymentProcessingError": PaymentProcessingError}
with open(sys.argv[1], encoding="utf-8") as source:
    exec(compile(source.read(), sys.argv[1], "exec"), namespace)

base_url, api_key, token, customer = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
HTTPClient = namespace["HTTPClient"]
StripePaymentService = namespace["StripePaymentService"]
PaymentRequest = namespace["PaymentRequest"]

service = StripePaymentService(HTTPClient(base_url, api_key))
try:
    response = asyncio.run(service.process_payment(PaymentRequest(Decimal("12.34"), "USD", token, customer, "python interop")))
    print(json.dumps({
        "payment_id": response.payment_id,
        "status": response.status,
        "amount": str(response.amount),
        "currency": response.currency,
        "created_at": response.created_at.isoformat(),
    }))
except Exception as error:
    print(json.dumps({"exception": type(error).__name__, "message": str(error)}))
`;

let service: RunningService;
let schema: string;
let dir: string;
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
db.on('error', () => undefined);

let depsChecked: Promise<void> | undefined;
/** Fails (clearly) when Debian's python3 lacks the adapter's imports. */
function requirePythonDeps(): Promise<void> {
  depsChecked ??= run(PYTHON, ['-c', 'import httpx, tenacity'], { timeout: 20_000 }).then(
    () => undefined,
    (error: unknown) => {
      throw new Error(`${PYTHON} cannot import httpx/tenacity; install them with: ${APT}\n(${(error as Error).message})`);
    },
  );
  return depsChecked;
}

beforeAll(async () => {
  const namespace = `t${randomBytes(4).toString('hex')}_`;
  schema = `${namespace}payment_provider`;
  service = await startPaymentProvider(
    loadPaymentProviderConfig({ NAMESPACE: namespace, PORT: '0', METRICS_PORT: '0', DATABASE_URL, FAULT_INJECTION_ENABLED: 'true', LOG_LEVEL: 'warn' }),
  );
  dir = mkdtempSync(path.join(tmpdir(), 'py-interop-'));
  writeFileSync(path.join(dir, 'payment_adapter.py'), readFileSync(ADAPTER, 'utf8'));
  writeFileSync(path.join(dir, 'driver.py'), DRIVER);
});

afterAll(async () => {
  await service?.stop();
  if (schema) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function drive(token: string, customer: string): Promise<Record<string, string>> {
  await requirePythonDeps();
  const { stdout, stderr } = await run(
    PYTHON,
    [path.join(dir, 'driver.py'), path.join(dir, 'payment_adapter.py'), service.url, API_KEY, token, customer],
    { timeout: 55_000 },
  );
  const line = stdout.trim().split('\n').at(-1);
  if (!line) throw new Error(`the driver printed nothing; stderr:\n${stderr}`);
  return JSON.parse(line) as Record<string, string>;
}

describe('the Python HTTPClient + StripePaymentService, unchanged', () => {
  it('when /usr/bin/python3 is checked, then it can import httpx and tenacity', async () => {
    await requirePythonDeps();
  });

  it('when it charges 12.34 USD with tok_visa, then it returns a parsed PaymentResponse and the ledger holds the payment for cus_py', async () => {
    const result = await drive('tok_visa', 'cus_py');
    expect(result).toEqual({
      payment_id: expect.stringMatching(/^pay_[0-9a-f]{24}$/),
      status: 'succeeded',
      amount: '12.34',
      currency: 'USD',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/),
    });
    const { rows } = await db.query<{ amount: string; customer: string; status: string; description: string; currency: string }>(
      `SELECT amount::text AS amount, customer, status, description, currency FROM "${schema}".payments WHERE id = $1`,
      [result.payment_id],
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.amount)).toBe(12.34);
    expect(rows[0]).toMatchObject({ customer: 'cus_py', status: 'succeeded', currency: 'USD', description: 'python interop' });
  }, 60_000);

  it('when it charges tok_chargeDeclined, then the service raises PaymentProcessingError (after tenacity retried the 402)', async () => {
    const customer = `cus_py_declined_${randomBytes(3).toString('hex')}`;
    const result = await drive('tok_chargeDeclined', customer);
    expect(result.exception).toBe('PaymentProcessingError');
    expect(result.message).toContain('402');
    // The Python client sends no Idempotency-Key and retries every HTTPStatusError, so each of its
    // attempts is a separate declined charge in the ledger.
    const { rows } = await db.query<{ status: string; failure_code: string }>(
      `SELECT status, failure_code FROM "${schema}".payments WHERE customer = $1`,
      [customer],
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.every((row) => row.status === 'failed' && row.failure_code === 'card_declined')).toBe(true);
  }, 60_000);
});
