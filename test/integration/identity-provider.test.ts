import { randomUUID } from 'node:crypto';
import { SignJWT, exportSPKI, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityProvider, loadOrderConfig, tokenSettings } from '../../services/order-service/config.js';
import { startTokenVerifier, type TokenVerifier } from '../../services/order-service/entry-points/http/auth.js';
import { createLogger } from '../../shared/logging/logger.js';
import { createMetricsRegistry, type MetricsRegistry } from '../../shared/observability/metrics.js';
import { KeySetServer, providerKey, signWith, type ProviderKey } from '../support/key-set-server.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { adminToken } from '../support/tokens.js';

/** Tokens from the shop's identity provider, checked against the key set it serves (JWKS). */
const ISSUER = 'https://id.shop.test/realms/shop';
const AUDIENCE = 'order-api';
const logger = createLogger({ service: 'identity-provider-test', level: 'error' });

let idp: KeySetServer;
let rsa: ProviderKey;
let ec: ProviderKey;
let ed: ProviderKey;

beforeAll(async () => {
  idp = await KeySetServer.start();
  [rsa, ec, ed] = await Promise.all([providerKey('rsa-1', 'RS256'), providerKey('ec-1', 'ES256'), providerKey('ed-1', 'EdDSA')]);
});

afterAll(async () => {
  await idp?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
/** Claims as Keycloak writes them: the customer id in its own claim, roles under realm_access. */
const claims = (patch: JWTPayload = {}): JWTPayload => ({
  sub: randomUUID(),
  customer_id: 'cus_idp_alice',
  realm_access: { roles: ['offline_access'] },
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now(),
  exp: now() + 300,
  ...patch,
});

/** A verifier as order-service builds it from its environment. */
async function verifier(env: Record<string, string> = {}, registry?: MetricsRegistry): Promise<TokenVerifier> {
  const config = loadOrderConfig({
    PORT: '0',
    AUTH_JWKS_URL: idp.url,
    AUTH_JWKS_ISSUER: ISSUER,
    AUTH_JWKS_AUDIENCE: AUDIENCE,
    AUTH_CUSTOMER_CLAIM: 'customer_id',
    AUTH_ROLES_CLAIM: 'realm_access.roles',
    AUTH_ADMIN_ROLE: 'shop-admin',
    ...env,
  });
  return startTokenVerifier(tokenSettings(config), identityProvider(config), logger, registry);
}

/** The problem a refused token gets: its type's name and detail. */
async function refusal(verify: Promise<unknown>): Promise<{ type: string; detail: string }> {
  const error = (await verify.then(() => expect.fail('the token was accepted'), (e: unknown) => e)) as { type: string; detail: string };
  return { type: error.type, detail: error.detail };
}

describe('tokens from the identity provider', () => {
  it('when a token is signed with RS256, ES256 or EdDSA by a published key, then its customer claim and roles make the principal', async () => {
    idp.publish(rsa, ec, ed);
    const verify = await verifier();
    for (const key of [rsa, ec, ed]) {
      await expect(verify.verify(await signWith(key, claims()))).resolves.toEqual({ subject: 'cus_idp_alice', role: 'customer' });
    }
    const admin = await signWith(ec, claims({ customer_id: 'ops_bob', realm_access: { roles: ['shop-admin', 'offline_access'] } }));
    await expect(verify.verify(admin)).resolves.toEqual({ subject: 'ops_bob', role: 'admin' });
  });

  it('when a claim name holds dots (Auth0 namespaced claims), then the whole name is read before a path', async () => {
    idp.publish(rsa);
    const verify = await verifier({ AUTH_CUSTOMER_CLAIM: 'sub', AUTH_ROLES_CLAIM: 'https://shop.test/roles' });
    const token = await signWith(rsa, claims({ sub: 'cus_auth0_carol', 'https://shop.test/roles': ['shop-admin'] }));
    await expect(verify.verify(token)).resolves.toEqual({ subject: 'cus_auth0_carol', role: 'admin' });
  });

  it('when the issuer, audience, expiry or customer claim is wrong, then 401 for each', async () => {
    idp.publish(rsa);
    const verify = await verifier();
    for (const patch of [{ iss: 'https://other.test' }, { aud: 'another-api' }, { customer_id: 'has spaces' }, { customer_id: 42 }]) {
      expect((await refusal(verify.verify(await signWith(rsa, claims(patch))))).type).toBe('unauthorized');
    }
    expect(await refusal(verify.verify(await signWith(rsa, claims({ iat: now() - 600, exp: now() - 60 }))))).toEqual({
      type: 'unauthorized',
      detail: 'the token has expired',
    });
  });

  it('when the key set rotates, then a token of the new key is accepted after one refetch and one of the removed key is refused', async () => {
    const next = await providerKey('rsa-2', 'RS256');
    idp.publish(rsa);
    const registry = createMetricsRegistry();
    const verify = await verifier({ AUTH_JWKS_COOLDOWN_MS: '0' }, registry);
    await expect(verify.verify(await signWith(rsa, claims()))).resolves.toMatchObject({ role: 'customer' });
    const fetchesBefore = idp.fetches;

    idp.publish(next);
    await expect(verify.verify(await signWith(next, claims()))).resolves.toMatchObject({ role: 'customer' });
    expect(idp.fetches - fetchesBefore, 'the unknown kid fetched the key set once').toBe(1);
    expect((await refusal(verify.verify(await signWith(rsa, claims())))).type).toBe('unauthorized');
    const metric = await registry.getSingleMetric('auth_key_set_fetches_total')!.get();
    // Fetched at start, for the new kid, and for the removed one (no cooldown here).
    expect(metric.values).toEqual([{ labels: { outcome: 'success' }, value: 3 }]);
  });

  it('when tokens with unknown kids keep coming, then the key set is fetched at most once per cooldown', async () => {
    idp.publish(rsa);
    const verify = await verifier({ AUTH_JWKS_COOLDOWN_MS: '60000' });
    const fetchesAtStart = idp.fetches;
    const strangers = await Promise.all([1, 2, 3, 4, 5].map((n) => providerKey(`stranger-${n}`, 'RS256')));
    for (const stranger of strangers) {
      expect((await refusal(verify.verify(await signWith(stranger, claims())))).type).toBe('unauthorized');
    }
    expect(idp.fetches - fetchesAtStart, 'refetches within the cooldown').toBe(0);
    await expect(verify.verify(await signWith(rsa, claims()))).resolves.toMatchObject({ role: 'customer' });
  });

  it('when an HS256 token is signed with the provider’s public key as its secret (algorithm confusion), then 401', async () => {
    idp.publish(rsa);
    const verify = await verifier();
    const publicPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const forged = await new SignJWT(claims({ realm_access: { roles: ['shop-admin'] } }))
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' })
      .sign(publicPem);
    expect((await refusal(verify.verify(forged))).type).toBe('unauthorized');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: rsa.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
    expect((await refusal(verify.verify(unsigned))).type).toBe('unauthorized');
  });

  it('when an algorithm is not in AUTH_JWKS_ALGORITHMS, then a token signed with it is refused though its key is published', async () => {
    idp.publish(rsa, ec);
    const verify = await verifier({ AUTH_JWKS_ALGORITHMS: 'ES256' });
    await expect(verify.verify(await signWith(ec, claims()))).resolves.toMatchObject({ role: 'customer' });
    expect((await refusal(verify.verify(await signWith(rsa, claims())))).type).toBe('unauthorized');
  });

  it('when the key set cannot be fetched, then the provider’s tokens get 503 (not 401) and our own tokens still pass', async () => {
    const down = await KeySetServer.start();
    const url = down.url;
    await down.stop();
    const verify = await verifier({ AUTH_JWKS_URL: url });
    expect(await refusal(verify.verify(await signWith(rsa, claims())))).toEqual({
      type: 'service_unavailable',
      detail: 'the identity provider’s keys cannot be fetched; try again later',
    });
    await expect(verify.verify(await adminToken())).resolves.toEqual({ subject: 'operator', role: 'admin' });
  });

  it('when the settings cannot work, then order-service refuses to start, naming each variable', () => {
    const load = (env: Record<string, string>) => () => loadOrderConfig({ PORT: '0', AUTH_JWKS_URL: idp.url, AUTH_JWKS_ISSUER: ISSUER, AUTH_JWKS_AUDIENCE: AUDIENCE, ...env });
    expect(load({ AUTH_JWKS_URL: 'http://id.shop.test/jwks.json' })).toThrow(/AUTH_JWKS_URL: the key set must be fetched over https/);
    expect(load({ AUTH_JWKS_ALGORITHMS: 'RS256,HS256' })).toThrow(/AUTH_JWKS_ALGORITHMS: .*not HS256/);
    expect(load({ AUTH_JWKS_ISSUER: '', AUTH_JWKS_AUDIENCE: '' })).toThrow(/AUTH_JWKS_ISSUER: required.*AUTH_JWKS_AUDIENCE: required/);
    expect(load({ AUTH_JWKS_URL: 'https://id.shop.test/jwks.json' })).not.toThrow();
  });
});

describe.skipIf(EXTERNAL_STACK)('the order API with an identity provider', () => {
  let stack: TestStack;

  beforeAll(async () => {
    idp.publish(rsa, ec);
    stack = await TestStack.start({
      AUTH_JWKS_URL: idp.url,
      AUTH_JWKS_ISSUER: ISSUER,
      AUTH_JWKS_AUDIENCE: AUDIENCE,
      AUTH_CUSTOMER_CLAIM: 'customer_id',
      AUTH_ROLES_CLAIM: 'realm_access.roles',
      AUTH_ADMIN_ROLE: 'shop-admin',
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const get = async (path: string, token: string) =>
    fetch(`${stack.orderApi}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('when a customer and an admin of the provider call the API, then each gets what its role allows', async () => {
    const customer = `cus_idp_${randomUUID().slice(0, 8)}`;
    const customerToken = await signWith(rsa, claims({ customer_id: customer }));
    expect((await get('/orders', customerToken)).status).toBe(200);
    expect((await get('/admin/dead-letters', customerToken)).status).toBe(403);
    const adminTokenOfProvider = await signWith(ec, claims({ customer_id: 'ops_dana', realm_access: { roles: ['shop-admin'] } }));
    expect((await get('/admin/dead-letters', adminTokenOfProvider)).status).toBe(200);
    const stranger = await signWith(await providerKey('stranger', 'RS256'), claims({ customer_id: customer }));
    const refused = await get('/orders', stranger);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});
