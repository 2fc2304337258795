import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../../shared/contracts/events.js';
import { createBoss } from '../../shared/jobs/job-runner.js';
import { createApp } from '../../services/order-service/entry-points/http/create-app.js';
import { deadLettersRouter } from '../../services/order-service/entry-points/http/dead-letters-router.js';
import { jobsRouter } from '../../services/order-service/entry-points/http/jobs-router.js';
import { reconciliationRouter } from '../../services/order-service/entry-points/http/reconciliation-router.js';
import { servicesRouter } from '../../services/order-service/entry-points/http/services-router.js';
import { OPERATIONS } from '../../services/order-service/entry-points/http/openapi.js';
import { expressRoutes } from '../support/express-routes.js';
import { OpenApiConformance, type CheckedAnswer, type OpenApiDocument } from '../support/openapi-conformance.js';
import { OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

const problemType = (name: string) => `urn:order-platform:problem:${name}`;

/** Low enough that one test can reach it; each test acts as its own customer, so the others never do. */
const CUSTOMER_LIMIT = 100;

let stack: TestStack;
let document: OpenApiDocument;
let conformance: OpenApiConformance;

beforeAll(async () => {
  stack = await TestStack.start({ RATE_LIMIT_CUSTOMER: String(CUSTOMER_LIMIT) });
  const response = await fetch(`${stack.orderApi}/openapi.json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as OpenApiDocument;
  conformance = new OpenApiConformance(document);
});

afterAll(async () => {
  await stack?.stop();
});

type Caller = string | 'admin' | null;

interface CallOptions {
  /** A customer id, 'admin', or null for no token. @defaultValue a fresh customer per test (see `caller`) */
  as?: Caller;
  /** Fills every `{id}` of the template. @defaultValue a random UUID */
  id?: string;
  /** Fills every `{name}` of the template (a job). @defaultValue deadline-sweep */
  name?: string;
  /** Appended to the path, e.g. `?limit=1`. */
  query?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

let caller: Caller = null;
const freshCustomer = () => (caller = `cus_oa_${randomUUID().slice(0, 8)}`);

/** Calls the operation `method template` on the running stack and checks the answer against the document. */
async function call(method: string, template: string, options: CallOptions = {}): Promise<CheckedAnswer> {
  const who = options.as === undefined ? caller : options.as;
  const path = template.replace(/\{id\}/g, options.id ?? randomUUID()).replace(/\{name\}/g, options.name ?? 'deadline-sweep') + (options.query ?? '');
  const headers = { ...(who === null ? { authorization: '' } : {}), ...options.headers };
  const response = await new OrderApi(stack, who ?? 'cus_anonymous').request(method.toUpperCase(), path, options.body, headers);
  return conformance.check(method, template, response);
}

/** A job that failed for good (its queue has no worker; it is fetched and failed here), for the retry endpoint. */
async function failedJob(): Promise<string> {
  const boss = createBoss(stack.db, stack.namespace);
  await boss.start();
  try {
    await boss.createQueue('openapi-test.fails', { name: 'openapi-test.fails', retryLimit: 0 });
    const id = (await boss.send('openapi-test.fails', {}))!;
    const [job] = await boss.fetch('openapi-test.fails');
    await boss.fail('openapi-test.fails', job!.id, new Error('failed on purpose'));
    return id;
  } finally {
    await boss.stop({ graceful: false, close: false });
  }
}

/** Calls and expects the problem `name` (the document's checks come first, in `call`). */
async function expectProblem(method: string, template: string, name: string, options: CallOptions = {}) {
  const answer = await call(method, template, options);
  expect({ operation: `${method} ${template}`, type: (answer.body as { type?: string }).type }).toEqual({
    operation: `${method} ${template}`,
    type: problemType(name),
  });
  return answer;
}

/** The operations of the document, as `METHOD /template`. */
const operationsOf = (paths: Record<string, Record<string, unknown>>) =>
  Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));

/** Puts a message straight into shipping-service's dead-letter queue and waits until it is archived; returns its id. */
async function deadLetter(body: Buffer | object, messageId = randomUUID()): Promise<string> {
  await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue('shipping-service'), body, {
    messageId,
    headers: { 'x-dead-letter-reason': 'retries_exhausted', 'x-dead-letter-error': 'database was down', 'x-dead-lettered-at': new Date().toISOString() },
  });
  return waitFor(
    async () => {
      const { rows } = await stack.db.query(`SELECT id FROM ${stack.table('dead-letters', 'dead_letters')} WHERE message_id = $1`, [messageId]);
      return rows[0]?.id as string | undefined;
    },
    { what: `dead letter ${messageId} to be archived` },
  );
}

describe('the OpenAPI document', () => {
  it('when /openapi.json is fetched, then it is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.1');
    await call('get', '/openapi.json', { as: null });
  });

  it('when every schema in it is compiled, then each is valid JSON Schema 2020-12 under strict mode', () => {
    const pointers: string[][] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const at = ['paths', path, method];
        (operation.parameters ?? []).forEach((_p, i) => pointers.push([...at, 'parameters', String(i), 'schema']));
        for (const mediaType of Object.keys(operation.requestBody?.content ?? {})) pointers.push([...at, 'requestBody', 'content', mediaType, 'schema']);
        for (const [status, response] of Object.entries(operation.responses)) {
          for (const mediaType of Object.keys(response.content ?? {})) pointers.push([...at, 'responses', status, 'content', mediaType, 'schema']);
          for (const name of Object.keys(response.headers ?? {})) pointers.push([...at, 'responses', status, 'headers', name, 'schema']);
        }
      }
    }
    for (const name of Object.keys(document.components?.schemas ?? {})) pointers.push(['components', 'schemas', name]);
    expect(pointers.length).toBeGreaterThan(50);
    for (const pointer of pointers) expect(() => conformance.validatorAt(...pointer), pointer.join(' ')).not.toThrow();
  });

  it('when /docs is fetched, then it is an HTML page naming every operation', async () => {
    const { body } = await call('get', '/docs', { as: null });
    expect(body).toMatch(/^<!doctype html>/);
    for (const operation of operationsOf(document.paths)) {
      const [method, path] = operation.split(' ');
      expect(body).toContain(`<span class="m">${method}</span> <code>${path}</code>`);
    }
  });

  it('when operation ids are listed, then each is unique', () => {
    const ids = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('routes', () => {
  it("when express's router is walked, then its routes are exactly the document's operations", () => {
    // Built with stubs: nothing is called while routes are registered.
    const stub = {} as never;
    const app = createApp({
      pool: stub,
      unitOfWork: stub,
      sagaTimeoutMs: 1_000,
      catalog: stub,
      idempotency: stub,
      logger: stub,
      readiness: {},
      degradable: {},
      deadLetters: deadLettersRouter({ store: stub, publisher: stub, names: stub, idempotency: stub }),
      deadLetterArchive: stub,
      jobs: express.Router().use(jobsRouter(stub), reconciliationRouter(stub)),
      services: servicesRouter(stub),
      auth: stub,
      admission: (_req, _res, next) => next(),
      rateLimit: (_req, _res, next) => next(),
      trustProxy: false,
      corsOrigins: [],
      requestTimeoutMs: 1_000,
    });
    const routes = expressRoutes(app);
    expect(routes.length).toBeGreaterThan(0);
    expect(new Set(routes).size, 'a route registered twice').toBe(routes.length);
    expect([...routes].sort()).toEqual(operationsOf(OPERATIONS).sort());
    expect(operationsOf(document.paths).sort()).toEqual(operationsOf(OPERATIONS).sort());
  });
});

describe('answers match the document', () => {
  it('when every operation is called on its success path, then each answers its declared status and schema', async () => {
    freshCustomer();
    expect((await call('get', '/healthz', { as: null })).status).toBe(200);
    expect((await call('get', '/readyz', { as: null })).status).toBe(200);
    expect((await call('get', '/openapi.json')).status).toBe(200);
    expect((await call('get', '/docs')).status).toBe(200);
    expect((await call('get', '/console', { as: null })).status).toBe(200);
    expect((await call('get', '/products')).status).toBe(200);

    const placed = await call('post', '/orders', { body: orderBody() });
    expect(placed.status).toBe(202);
    const orderId = (placed.body as { id: string }).id;
    await call('post', '/orders', { body: orderBody() });
    const page = await call('get', '/orders', { query: '?limit=1' });
    expect(page).toMatchObject({ status: 200, body: { data: [expect.anything()], next_cursor: expect.any(String) } });
    const cursor = (page.body as { next_cursor: string }).next_cursor;
    expect(await call('get', '/orders', { query: `?limit=1&cursor=${cursor}` })).toMatchObject({ status: 200, body: { next_cursor: null } });
    expect((await call('get', '/orders/{id}', { id: orderId })).status).toBe(200);
    // An order whose card is declined never completes: cancelling it answers 202 whether the saga
    // has cancelled it already or not (a completed order, 409, is a race this path must not depend on).
    const declined = await call('post', '/orders', { body: orderBody({ payment_source: 'tok_chargeDeclined' }) });
    const cancellable = (declined.body as { id: string }).id;
    const key = { 'idempotency-key': randomUUID() };
    expect((await call('post', '/orders/{id}/cancel', { id: cancellable, headers: key })).status).toBe(202);
    const again = await call('post', '/orders/{id}/cancel', { id: cancellable, headers: key });
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
    expect((await call('post', '/orders/{id}/cancel', { id: cancellable })).status).toBe(202);

    const text = await deadLetter(newEvent('order.cancel_requested', { order_id: cancellable, reason: 'customer_request' }, { correlationId: cancellable }));
    const binary = await deadLetter(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const listed = await call('get', '/admin/dead-letters', { as: 'admin', query: '?service=shipping-service&reason=retries_exhausted&limit=10' });
    expect(listed.status).toBe(200);
    expect((listed.body as { data: { id: string }[] }).data.map((letter) => letter.id)).toEqual(expect.arrayContaining([text, binary]));
    expect(await call('get', '/admin/dead-letters/{id}', { as: 'admin', id: binary })).toMatchObject({ status: 200, body: { body: null } });
    expect(await call('post', '/admin/dead-letters/{id}/replay', { as: 'admin', id: text })).toMatchObject({ status: 202, body: { replay_count: 1 } });
    const groups = await call('get', '/admin/dead-letters/groups', { as: 'admin' });
    expect((groups.body as { data: unknown[] }).data).toContainEqual(expect.objectContaining({ service: 'shipping-service', event_type: null, reason: 'retries_exhausted' }));
    expect(await call('post', '/admin/dead-letters/replay', { as: 'admin', body: { ids: [text] } })).toMatchObject({ status: 202, body: { replayed: 1, ids: [text], more: false } });
    expect((await call('delete', '/admin/dead-letters/{id}', { as: 'admin', id: text })).status).toBe(204);
    expect((await call('delete', '/admin/dead-letters/{id}', { as: 'admin', id: binary })).status).toBe(204);
    const another = await deadLetter(Buffer.from('not json'));
    expect(await call('post', '/admin/dead-letters/purge', { as: 'admin', body: { ids: [another] } })).toMatchObject({ status: 200, body: { purged: 1, ids: [another], more: false } });

    expect((await call('get', '/admin/orders/{id}', { as: 'admin', id: orderId })).status).toBe(200);
    const found = await call('get', '/admin/orders', { as: 'admin', query: `?q=${orderId}&limit=1` });
    expect(found).toMatchObject({ status: 200, body: { data: [{ id: orderId }], next_cursor: null } });
    expect((await call('get', '/admin/orders/{id}/timeline', { as: 'admin', id: cancellable })).status).toBe(200);
    expect((await call('post', '/admin/orders/{id}/cancel', { as: 'admin', id: cancellable })).status).toBe(202);
    expect((await call('get', '/admin/jobs/queues', { as: 'admin' })).status).toBe(200);
    expect((await call('get', '/admin/services', { as: 'admin' })).status).toBe(200);
    const sweep = await call('post', '/admin/jobs/queues/{name}/runs', { as: 'admin', name: 'deadline-sweep', body: {} });
    expect(sweep.status).toBe(202);
    expect((await call('get', '/admin/jobs', { as: 'admin', query: '?name=deadline-sweep' })).status).toBe(200);
    expect((await call('get', '/admin/jobs/{id}', { as: 'admin', id: (sweep.body as { id: string }).id })).status).toBe(200);
    expect((await call('post', '/admin/jobs/{id}/retry', { as: 'admin', id: await failedJob() })).status).toBe(202);
    expect((await call('post', '/admin/reconciliation/runs', { as: 'admin', body: {} })).status).toBe(202);
    expect((await call('get', '/admin/reconciliation', { as: 'admin' })).status).toBe(200);

    const unexercised = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .map(([method, op]) => `${method.toUpperCase()} ${path} ${Object.keys(op.responses).find((status) => status.startsWith('2'))}`)
        .filter((answer) => !conformance.seen.has(answer)),
    );
    expect(unexercised).toEqual([]);
  });

  it('when a token is missing or not valid, then every protected operation answers 401 unauthorized', async () => {
    const protectedOps = Object.entries(OPERATIONS).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op.auth)
        .map(([method]) => [method, path] as const),
    );
    expect(protectedOps.length).toBeGreaterThan(5);
    for (const [method, path] of protectedOps) {
      const answer = await expectProblem(method, path, 'unauthorized', { as: null });
      expect(answer.status).toBe(401);
    }
    await expectProblem('get', '/orders', 'unauthorized', { as: null, headers: { authorization: 'Bearer not.a.token' } });
  });

  it('when a customer calls an operations endpoint, then 403 forbidden', async () => {
    freshCustomer();
    for (const [path, methods] of Object.entries(OPERATIONS)) {
      for (const [method, op] of Object.entries(methods)) {
        if (op.auth === 'admin') expect((await expectProblem(method, path, 'forbidden')).status).toBe(403);
      }
    }
  });

  it('when what is asked for does not exist, then 404 not_found', async () => {
    freshCustomer();
    await expectProblem('get', '/orders/{id}', 'not_found');
    await expectProblem('get', '/orders/{id}', 'not_found', { id: 'not-a-uuid' });
    await expectProblem('post', '/orders/{id}/cancel', 'not_found');
    await expectProblem('get', '/admin/dead-letters/{id}', 'not_found', { as: 'admin' });
    await expectProblem('post', '/admin/dead-letters/{id}/replay', 'not_found', { as: 'admin' });
    await expectProblem('delete', '/admin/dead-letters/{id}', 'not_found', { as: 'admin', id: 'not-a-uuid' });
    await expectProblem('get', '/admin/orders/{id}/timeline', 'not_found', { as: 'admin' });
    await expectProblem('post', '/admin/orders/{id}/cancel', 'not_found', { as: 'admin' });
  });

  it('when the request is not valid, then 400 with the declared problem', async () => {
    freshCustomer();
    await expectProblem('post', '/orders', 'validation_error', { body: { ...orderBody(), total: '0.01' } });
    await expectProblem('post', '/orders', 'validation_error');
    await expectProblem('post', '/orders', 'malformed_json', { body: '{"items": [' });
    await expectProblem('post', '/orders', 'idempotency_key_missing', { body: orderBody(), headers: { 'idempotency-key': '' } });
    await expectProblem('post', '/orders', 'idempotency_key_invalid', { body: orderBody(), headers: { 'idempotency-key': 'k'.repeat(256) } });
    await expectProblem('get', '/orders', 'validation_error', { query: '?limit=many' });
    await expectProblem('get', '/orders', 'validation_error', { query: '?cursor=%25%25%25' });
    await expectProblem('get', '/orders', 'validation_error', { query: '?colour=red' });
    await expectProblem('post', '/orders/{id}/cancel', 'idempotency_key_invalid', { headers: { 'idempotency-key': 'k'.repeat(256) } });
    await expectProblem('get', '/admin/dead-letters', 'validation_error', { as: 'admin', query: '?limit=-1' });
    await expectProblem('get', '/admin/orders', 'validation_error', { as: 'admin', query: '?limit=101' });
    await expectProblem('post', '/admin/dead-letters/replay', 'validation_error', { as: 'admin', body: {} });
    await expectProblem('post', '/admin/dead-letters/purge', 'validation_error', { as: 'admin', body: { ids: [randomUUID()], group: { service: 'x', event_type: null, reason: 'y' } } });
    for (const [path, methods] of Object.entries(OPERATIONS)) {
      if (!path.includes('{id}')) continue;
      for (const [method, op] of Object.entries(methods)) {
        await expectProblem(method, path, 'validation_error', { id: '%ZZ', ...(op.auth === 'admin' ? { as: 'admin' } : {}) });
      }
    }
  });

  it('when the order has shipped, then cancelling it answers 409 order_not_cancellable', async () => {
    freshCustomer();
    const api = new OrderApi(stack, caller!);
    const placed = await api.place();
    expect((await api.settled(placed.id)).status).toBe('completed');
    await expectProblem('post', '/orders/{id}/cancel', 'order_not_cancellable', { id: placed.id });
  });

  it('when the body is too large or not JSON, then 413 and 415, on every operation that can get one', async () => {
    freshCustomer();
    await expectProblem('post', '/orders', 'payload_too_large', { body: { ...orderBody(), padding: 'x'.repeat(150_000) } });
    await expectProblem('post', '/orders', 'unsupported_media_type', { body: 'items=1', headers: { 'content-type': 'text/plain' } });
    await expectProblem('post', '/orders/{id}/cancel', 'unsupported_media_type', { body: 'now please', headers: { 'content-type': 'text/plain' } });
    await expectProblem('post', '/orders/{id}/cancel', 'malformed_json', { body: '{' });
    await expectProblem('post', '/admin/dead-letters/{id}/replay', 'unsupported_media_type', { as: 'admin', body: 'x', headers: { 'content-type': 'text/plain' } });
  });

  it('when an order cannot be honoured or a key is reused, then 422 with the declared problem', async () => {
    freshCustomer();
    await expectProblem('post', '/orders', 'unknown_sku', { body: orderBody({ items: [{ sku: 'NO-SUCH-THING', quantity: 1 }] }) });
    const key = { 'idempotency-key': randomUUID() };
    expect((await call('post', '/orders', { body: orderBody(), headers: key })).status).toBe(202);
    await expectProblem('post', '/orders', 'idempotency_key_reused', { body: orderBody({ currency: 'EUR' }), headers: key });
    await expectProblem('post', '/orders/{id}/cancel', 'idempotency_key_reused', { headers: key });
  });

  it.skipIf(EXTERNAL_STACK)('when a customer exceeds its rate limit, then 429 rate_limited with Retry-After', async () => {
    freshCustomer();
    let answer: CheckedAnswer | undefined;
    for (let i = 0; i <= CUSTOMER_LIMIT && answer?.status !== 429; i += 1) answer = await call('get', '/orders/{id}', { id: 'not-a-uuid' });
    expect(answer?.status).toBe(429);
    expect((answer!.body as { type: string }).type).toBe(problemType('rate_limited'));
    await expectProblem('get', '/openapi.json', 'rate_limited');
  });
});
