import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadOrderConfig, tokenSettings } from '../../services/order-service/config.js';
import { OrderApi, type OrderView } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
import { expectNoSecretsInLogs } from '../support/secret-scan.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { adminToken, customerToken } from '../support/tokens.js';

/** Requirements 1, 2 and 6: who may call what, and the headers every answer carries. */
const settings = tokenSettings(loadOrderConfig({ PORT: '0', ...process.env }));
const secret = new TextEncoder().encode(settings.secret);
const ALICE = `cus_alice_${randomUUID().slice(0, 8)}`;
const MALLORY = `cus_mallory_${randomUUID().slice(0, 8)}`;
/** Every token this file sent, for the log scan. */
const sentTokens = new Set<string>();

let stack: TestStack;
let alice: OrderApi;
let mallory: OrderApi;

beforeAll(async () => {
  vi.stubEnv('TEST_LOG_LEVEL', 'debug');
  stack = await TestStack.start();
  alice = new OrderApi(stack, ALICE);
  mallory = new OrderApi(stack, MALLORY);
  sentTokens.add(await customerToken(ALICE)).add(await customerToken(MALLORY)).add(await adminToken());
});

afterAll(async () => {
  await stack?.stop();
  vi.unstubAllEnvs();
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (patch: JWTPayload = {}): JWTPayload => ({ sub: ALICE, role: 'customer', iss: settings.issuer, aud: settings.audience, iat: now(), exp: now() + 600, ...patch });
const withoutClaim = (name: string): JWTPayload => Object.fromEntries(Object.entries(claims()).filter(([key]) => key !== name));
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sign = (payload: JWTPayload, alg = 'HS256', key: Parameters<SignJWT['sign']>[0] = secret) =>
  new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
const bearer = async (token: Promise<string> | string) => {
  const value = await token;
  sentTokens.add(value);
  return `Bearer ${value}`;
};

const UNAUTHENTICATED: [name: string, header: () => Promise<string | undefined>][] = [
  ['there is no Authorization header', async () => undefined],
  ['the scheme is Basic', async () => `Basic ${Buffer.from('alice:secret').toString('base64')}`],
  ['the scheme is Token', async () => `Token ${await customerToken(ALICE)}`],
  ['Bearer has no token', async () => 'Bearer'],
  ['the token is not a JWT', async () => 'Bearer not-a-jwt'],
  ['the token has two parts', async () => `Bearer ${(await customerToken(ALICE)).split('.').slice(0, 2).join('.')}`],
  ['text follows the token', async () => `${await bearer(customerToken(ALICE))} extra`],
  ['the token is signed with another secret', () => bearer(sign(claims(), 'HS256', new TextEncoder().encode('another-secret-of-at-least-32-chars!!')))],
  ['the payload was changed to role admin', async () => {
    const [header, , signature] = (await customerToken(ALICE)).split('.');
    return bearer(`${header}.${b64({ ...claims(), role: 'admin' })}.${signature}`);
  }],
  ['the token expired ten minutes ago', () => bearer(sign(claims({ iat: now() - 1200, exp: now() - 600 })))],
  ['the token is not valid yet (nbf)', () => bearer(sign(claims({ nbf: now() + 600 })))],
  ['alg is none, unsigned', () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`)],
  ['alg is none, with a signature', () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.c2lnbmF0dXJl`)],
  ['alg is HS512 with the right secret', () => bearer(sign(claims(), 'HS512'))],
  ['alg is HS384 with the right secret', () => bearer(sign(claims(), 'HS384'))],
  ['alg is RS256', async () => bearer(sign(claims(), 'RS256', (await generateKeyPair('RS256')).privateKey))],
  ['alg is ES256', async () => bearer(sign(claims(), 'ES256', (await generateKeyPair('ES256')).privateKey))],
  ['the issuer is wrong', () => bearer(sign(claims({ iss: 'someone-else' })))],
  ['the audience is wrong', () => bearer(sign(claims({ aud: 'another-api' })))],
  ['exp is missing', () => bearer(sign(withoutClaim('exp')))],
  ['sub is missing', () => bearer(sign(withoutClaim('sub')))],
  ['the role is unknown', () => bearer(sign(claims({ role: 'superuser' })))],
  ['sub is not a customer id', () => bearer(sign(claims({ sub: 'alice; DROP TABLE orders' })))],
];

describe('authentication', () => {
  it.each(UNAUTHENTICATED)('when %s, then 401 unauthorized with WWW-Authenticate: Bearer', async (_name, header) => {
    const authorization = await header();
    const response = await fetch(`${stack.orderApi}/orders`, { headers: authorization === undefined ? {} : { authorization } });
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    await expectProblem(response, 401, 'unauthorized');
  });

  it('when a POST has no token, then 401 before the body or the Idempotency-Key is looked at', async () => {
    const response = await fetch(`${stack.orderApi}/orders`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    await expectProblem(response, 401, 'unauthorized');
  });

  it('when a valid customer token is sent, then the same request is served', async () => {
    expect((await alice.request('GET', '/orders')).status).toBe(200);
  });

  it('when the scheme is written in another case (bearer, BEARER), then it is the same scheme (RFC 9110)', async () => {
    const token = await customerToken(ALICE);
    for (const scheme of ['bearer', 'BEARER']) {
      const response = await fetch(`${stack.orderApi}/orders`, { headers: { authorization: `${scheme} ${token}` } });
      await response.body?.cancel();
      expect(response.status).toBe(200);
    }
  });
});

describe('authorization between customers', () => {
  const stateOf = async (id: string) => {
    const { rows } = await stack.db.query(`SELECT status, cancellation_reason, updated_at FROM ${stack.table('order-service', 'orders')} WHERE id = $1`, [id]);
    return rows[0] as { status: string; cancellation_reason: string | null; updated_at: Date };
  };

  it("when another customer reads, lists or cancels an order in progress, then 404 and the order completes untouched", async () => {
    const order = await alice.place();
    await expectProblem(await mallory.request('POST', `/orders/${order.id}/cancel`), 404, 'not_found');
    await expectProblem(await mallory.request('POST', `/orders/${order.id}/cancel`, undefined, { 'idempotency-key': '' }), 404, 'not_found');
    await expectProblem(await mallory.request('GET', `/orders/${order.id}`), 404, 'not_found');
    const listed = (await (await mallory.request('GET', '/orders?limit=100')).json()) as { data: OrderView[] };
    expect(listed.data.map((o) => o.id)).not.toContain(order.id);
    const settled = await alice.settled(order.id);
    expect(settled).toMatchObject({ status: 'completed', cancellation_reason: null });
    expect(settled.history.map((h) => h.type)).not.toContain('order.cancel_requested');
  });

  it('when another customer cancels a completed order, then 404 (not 409: its existence stays hidden) and nothing changes', async () => {
    const order = await alice.place();
    await alice.settled(order.id);
    const before = await stateOf(order.id);
    await expectProblem(await mallory.request('POST', `/orders/${order.id}/cancel`), 404, 'not_found');
    await expectProblem(await alice.request('POST', `/orders/${order.id}/cancel`), 409, 'order_not_cancellable');
    expect(await stateOf(order.id)).toEqual(before);
  });

  it('when each customer lists orders, then each sees only its own', async () => {
    const own = await mallory.place();
    const alices = (await (await alice.request('GET', '/orders?limit=100')).json()) as { data: (OrderView & { customer_id: string })[] };
    const mallorys = (await (await mallory.request('GET', '/orders?limit=100')).json()) as { data: (OrderView & { customer_id: string })[] };
    expect(alices.data.length).toBeGreaterThan(0);
    expect(new Set(alices.data.map((o) => o.customer_id))).toEqual(new Set([ALICE]));
    expect(mallorys.data.map((o) => o.id)).toEqual([own.id]);
  });
});

describe('operations endpoints', () => {
  const letter = randomUUID();
  it.each([
    ['GET', '/admin/dead-letters'],
    ['GET', `/admin/dead-letters/${letter}`],
    ['POST', `/admin/dead-letters/${letter}/replay`],
    ['DELETE', `/admin/dead-letters/${letter}`],
    ['GET', '/admin/anything-else'],
  ])('when a customer calls %s %s, then 403 forbidden', async (method, path) => {
    await expectProblem(await alice.request(method, path), 403, 'forbidden');
  });

  it('when nobody is authenticated, then the operations endpoints answer 401', async () => {
    await expectProblem(await fetch(`${stack.orderApi}/admin/dead-letters`), 401, 'unauthorized');
  });

  it('when an admin lists dead letters, then 200 with a list', async () => {
    const response = await new OrderApi(stack, 'admin').request('GET', '/admin/dead-letters');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: expect.any(Array) });
  });
});

describe('hardening headers', () => {
  it.each([
    ['a success', () => alice.request('GET', '/orders')],
    ['a problem', () => fetch(`${stack.orderApi}/orders`)],
    ['a health probe', () => fetch(`${stack.orderApi}/healthz`)],
  ])('when the API answers %s, then helmet headers are set and X-Powered-By is not', async (_name, call) => {
    const { headers } = await call();
    expect(headers.get('x-powered-by')).toBeNull();
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  it.skipIf(EXTERNAL_STACK)('when a browser from another origin calls or preflights, then no CORS header is sent (CORS is off by default)', async () => {
    const origin = { origin: 'https://evil.example' };
    const simple = await alice.request('GET', '/orders', undefined, origin);
    const preflight = await fetch(`${stack.orderApi}/orders`, {
      method: 'OPTIONS',
      headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,idempotency-key' },
    });
    for (const response of [simple, preflight]) {
      expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('logs', () => {
  it.skipIf(EXTERNAL_STACK)('when the suite has run, then no log line holds a bearer token, forged or valid, or an Idempotency-Key', () => {
    expectNoSecretsInLogs(stack, { values: [...sentTokens, ...alice.idempotencyKeys, ...mallory.idempotencyKeys] });
  });
});
