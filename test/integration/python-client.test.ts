import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEY, ProviderInstance } from '../support/provider-instance.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const seeds = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'seeds');

/** Sections 1 and 2 of the Python design (HTTPClient, StripePaymentService), exactly as written. */
function pythonAdapterSource(): string {
  const file = readdirSync(seeds).find((name) => name.startsWith('003_'));
  if (!file) throw new Error(`no 003_* seed in ${seeds}`);
  const blocks = [...readFileSync(path.join(seeds, file), 'utf8').matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length < 2) throw new Error('the seed lost its Python blocks');
  return `${blocks[0]}\n${blocks[1]}`;
}

// The driver only supplies what the seed leaves undefined (PaymentProcessingError) and calls it.
const DRIVER = `
import asyncio, json, sys
from decimal import Decimal
namespace = {"__name__": "seed"}
class PaymentProcessingError(Exception):
    pass
namespace["PaymentProcessingError"] = PaymentProcessingError
exec(open(sys.argv[1]).read(), namespace)
client = namespace["HTTPClient"](sys.argv[2], sys.argv[3])
service = namespace["StripePaymentService"](client)
request = namespace["PaymentRequest"](Decimal(sys.argv[5]), "USD", sys.argv[4], "cus_py", "python interop")
try:
    response = asyncio.run(service.process_payment(request))
    print(json.dumps({"payment_id": response.payment_id, "status": response.status, "amount": str(response.amount),
                      "currency": response.currency, "created_at": response.created_at.isoformat()}))
except PaymentProcessingError as error:
    print(json.dumps({"error": type(error).__name__}))
`;

let provider: ProviderInstance;
let dir: string;

beforeAll(async () => {
  try {
    await run(PYTHON, ['-c', 'import httpx, tenacity']);
  } catch {
    throw new Error(`${PYTHON} lacks httpx/tenacity: apt-get install -y python3-httpx python3-tenacity`);
  }
  provider = await ProviderInstance.start();
  dir = mkdtempSync(path.join(tmpdir(), 'py-interop-'));
  writeFileSync(path.join(dir, 'adapter.py'), pythonAdapterSource());
  writeFileSync(path.join(dir, 'driver.py'), DRIVER);
});

afterAll(async () => {
  await provider?.stop();
});

async function charge(token: string, amount: string): Promise<Record<string, string>> {
  const { stdout } = await run(PYTHON, [path.join(dir, 'driver.py'), path.join(dir, 'adapter.py'), provider.url, PROVIDER_KEY, token, amount], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
}

describe('the Python adapter of the design, unchanged', () => {
  it('when it charges tok_visa through the provider, then it parses the answer and the ledger holds the payment', async () => {
    const result = await charge('tok_visa', '12.34');
    expect(result).toMatchObject({ status: 'succeeded', amount: '12.34', currency: 'USD' });
    expect(result.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await provider.count('payments', "id = $1 AND amount = 12.34 AND customer = 'cus_py'", [result.payment_id])).toBe(1);
  });

  it('when the card is declined, then the Python service raises PaymentProcessingError', async () => {
    expect(await charge('tok_chargeDeclined', '5.00')).toEqual({ error: 'PaymentProcessingError' });
  }, 60_000);
});
