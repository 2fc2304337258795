import express from 'express';
import { Type, type TSchema } from '@sinclair/typebox';
import { MAX_KEY_LENGTH } from './idempotency.js';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from './problem.js';
import { ReconcileRequest } from './reconciliation-router.js';
import {
  AdminOrdersQuery,
  CreateOrderRequest,
  DeadLetterGroupList,
  ServiceList,
  DeadLetterList,
  DeadLetterPurgeResult,
  DeadLetterReplayResult,
  DeadLetterSelectionRequest,
  DeadLetterView,
  Health,
  JobList,
  JobQueueList,
  JobRun,
  JobView,
  JobsQuery,
  RunJobRequest,
  OrderList,
  OrderResponse,
  OrderTimeline,
  Problem,
  ProductList,
} from './schemas.js';

/**
 * The order API's OpenAPI 3.1 document, built from the same TypeBox schemas the routes validate
 * with (TypeBox schemas are JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Served at
 * `/openapi.json`; `/docs` renders it as one HTML page, on the server, with no script.
 */
type Operation = {
  summary: string;
  tag: string;
  auth?: 'customer' | 'admin';
  params?: Parameter[];
  body?: TSchema;
  ok: [status: number, schema: TSchema | null, description: string];
  /** Headers of the success answer, besides the rate-limit ones every limited answer has. */
  okHeaders?: Record<string, Header>;
  problems?: ProblemType[];
  /** Answers with an ETag and honours If-None-Match (304). */
  conditional?: boolean;
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: TSchema; description: string };
type Header = { description: string; required: boolean; schema: TSchema };

const seconds = Type.String({ pattern: '^[0-9]+$' });
const RATE_LIMIT_HEADERS: Record<string, Header> = {
  'RateLimit-Limit': { description: 'requests allowed per window', required: true, schema: seconds },
  'RateLimit-Remaining': { description: 'requests left in this window', required: true, schema: seconds },
  'RateLimit-Reset': { description: 'seconds until the window resets', required: true, schema: seconds },
};
const retryAfter = (required: boolean): Header => ({ description: 'seconds to wait before retrying', required, schema: seconds });
const overloadedRetryAfter: Header = {
  description: 'seconds to wait before retrying; for `overloaded`, the estimated time for the orders in progress to drain below the bound (1 to 30)',
  required: true,
  schema: seconds,
};
const replayed: Header = { description: 'the first answer to this Idempotency-Key, replayed', required: false, schema: Type.Literal('true') };

const orderId: Parameter = { name: 'id', in: 'path', required: true, schema: Type.String({ format: 'uuid' }), description: 'order id' };
const letterId: Parameter = { name: 'id', in: 'path', required: true, schema: Type.String({ format: 'uuid' }), description: 'dead letter id' };
const Report = Type.Object({ job_id: Type.String(), run_id: Type.String(), status: Type.Union([Type.Literal('complete'), Type.Literal('partial')]) }, { additionalProperties: true });
const ReconciliationStatus = Type.Object({
  last_run: Type.Union([Report, Type.Null()]),
  last_complete_run: Type.Union([Report, Type.Null()]),
  running: Type.Array(Type.String()),
  failed: Type.Array(Type.Object({ job_id: Type.String(), error: Type.Unknown() })),
});
const jobId: Parameter = { name: 'id', in: 'path', required: true, schema: Type.String({ format: 'uuid' }), description: 'job id' };
const idempotencyKey = (required: boolean): Parameter => ({
  name: 'Idempotency-Key',
  in: 'header',
  required,
  schema: Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH }),
  description:
    'Makes the POST safe to retry: the same key and body replay the first response (Idempotent-Replayed: true); another body → 422; while the first runs → 409. Scoped per customer, kept 24 h.',
});
const query = (name: string, schema: TSchema, description: string): Parameter => ({ name, in: 'query', required: false, schema, description });
const etag: Header = { description: 'the entity tag of what is answered; send it back as If-None-Match', required: true, schema: Type.String() };
const ifNoneMatch: Parameter = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  schema: Type.String(),
  description: 'the ETag of what the client has: while it is still current, 304 with no body',
};

/** Every route of the API; a test checks this list against the routes express really has. */
export const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/healthz': { get: { summary: 'The process is alive', tag: 'health', ok: [200, Health, 'alive'] } },
  '/readyz': {
    get: { summary: 'RabbitMQ and Postgres answer (Redis down: 200, degraded)', tag: 'health', ok: [200, Health, 'ready'], problems: [] },
  },
  '/openapi.json': { get: { summary: 'This document', tag: 'docs', ok: [200, Type.Object({}), 'OpenAPI 3.1'], problems: ['rate_limited'] } },
  '/docs': { get: { summary: 'This document as an HTML page', tag: 'docs', ok: [200, null, 'HTML'], problems: ['rate_limited'] } },
  '/console': {
    get: {
      summary: 'The operations console: an HTML page for admins, whose data comes from /admin/* with the admin token it signs in with (503 until it is built)',
      tag: 'docs',
      ok: [200, null, 'HTML'],
      problems: ['service_unavailable'],
    },
  },
  '/products': {
    get: {
      summary: 'The catalog: prices per currency and available stock (cached, dropped on every stock move)',
      tag: 'products',
      auth: 'customer',
      ok: [200, ProductList, 'the catalog'],
      conditional: true,
    },
  },
  '/orders': {
    post: {
      summary: 'Place an order; its saga runs asynchronously',
      tag: 'orders',
      auth: 'customer',
      params: [idempotencyKey(true)],
      body: CreateOrderRequest,
      ok: [202, OrderResponse, 'accepted (status pending); Location names the order'],
      okHeaders: { Location: { description: 'the order, /orders/{id}', required: true, schema: Type.String() }, 'Idempotent-Replayed': replayed },
      problems: [
        'validation_error',
        'malformed_json',
        'idempotency_key_missing',
        'idempotency_key_invalid',
        'idempotency_key_in_use',
        'payload_too_large',
        'unsupported_media_type',
        'idempotency_key_reused',
        'unknown_sku',
        'currency_not_offered',
        'overloaded',
      ],
    },
    get: {
      summary: "The customer's orders, newest first, without their history",
      tag: 'orders',
      auth: 'customer',
      params: [
        query('limit', Type.String({ pattern: '^[0-9]{1,6}$' }), 'page size, clamped to 1..100 (default 20)'),
        query('cursor', Type.String({ maxLength: 200 }), 'next_cursor of the previous page'),
      ],
      ok: [200, OrderList, 'one page'],
      problems: ['validation_error'],
      conditional: true,
    },
  },
  '/orders/{id}': {
    get: {
      summary: 'One order, with its saga history; with `wait`, its next change (long poll)',
      tag: 'orders',
      auth: 'customer',
      params: [
        orderId,
        query(
          'wait',
          Type.String({ pattern: '^[0-9]{1,3}$' }),
          'seconds to wait for a change, 1 to ORDER_WAIT_MAX_S (default 30): answered at once if the order differs from the If-None-Match given, else as soon as it changes (on any instance), else when the time is up (304 with If-None-Match, else 200 with the order as it is)',
        ),
      ],
      ok: [200, OrderResponse, 'the order'],
      problems: ['not_found', 'validation_error'],
      conditional: true,
    },
  },
  '/orders/{id}/cancel': {
    post: {
      summary: 'Cancel before shipment; compensations follow',
      tag: 'orders',
      auth: 'customer',
      params: [orderId, idempotencyKey(false)],
      ok: [202, OrderResponse, 'cancelling (or already cancelled)'],
      okHeaders: { 'Idempotent-Replayed': replayed },
      problems: ['not_found', 'order_not_cancellable', 'idempotency_key_invalid', 'idempotency_key_in_use', 'idempotency_key_reused'],
    },
  },
  '/admin/orders': {
    get: {
      summary: 'Search every customer\'s orders, newest first, without their history',
      tag: 'operations',
      auth: 'admin',
      params: [
        query('q', AdminOrdersQuery.properties.q, 'an order id (that order), or else a customer id (that customer\'s orders), matched exactly'),
        query('status', AdminOrdersQuery.properties.status, 'pending, reserved, paid, compensating, completed or cancelled'),
        query('cancellation_reason', AdminOrdersQuery.properties.cancellation_reason, 'e.g. shipping_failed, payment_declined, customer_request'),
        query('created_after', AdminOrdersQuery.properties.created_after, 'placed at or after this instant (RFC 3339, with its offset)'),
        query('created_before', AdminOrdersQuery.properties.created_before, 'placed before this instant (RFC 3339, with its offset)'),
        query('limit', AdminOrdersQuery.properties.limit, 'page size, 1 to 100 (default 20)'),
        query('cursor', AdminOrdersQuery.properties.cursor, 'next_cursor of the previous page (same filters)'),
      ],
      ok: [200, OrderList, 'one page'],
      problems: ['validation_error'],
    },
  },
  '/admin/orders/{id}': {
    get: {
      summary: 'Any customer\'s order, with its saga history',
      tag: 'operations',
      auth: 'admin',
      params: [orderId],
      ok: [200, OrderResponse, 'the order'],
      problems: ['not_found'],
    },
  },
  '/admin/orders/{id}/timeline': {
    get: {
      summary:
        "Any customer's order as its saga ran: each event with its publisher, role (start: order.created; compensation: an event some subscriber handles as a compensation; else step) and time since the previous one; the events still expected (from the saga declaration); its open dead letters; its payment and shipment",
      tag: 'operations',
      auth: 'admin',
      params: [orderId],
      ok: [200, OrderTimeline, 'the timeline'],
      problems: ['not_found'],
    },
  },
  '/admin/orders/{id}/cancel': {
    post: {
      summary: "Cancel any customer's order before shipment, by the customer's rules; compensations follow (the admin is logged and kept in the history)",
      tag: 'operations',
      auth: 'admin',
      params: [orderId],
      ok: [202, OrderResponse, 'cancelling (or already cancelled)'],
      problems: ['not_found', 'order_not_cancellable'],
    },
  },
  '/admin/dead-letters': {
    get: {
      summary: 'Dead letters of every service (not purged), oldest first',
      tag: 'operations',
      auth: 'admin',
      params: [
        query('service', Type.String(), 'e.g. payment-service'),
        query('event_type', Type.String(), 'e.g. inventory.reserved; empty: letters whose event type is unknown'),
        query('reason', Type.String(), 'unparseable, schema_invalid, retries_exhausted, …'),
        query('waiting', Type.Literal('true'), 'only letters waiting for an operator (neither replayed nor purged): those a group counts'),
        query('older_than_seconds', Type.String({ pattern: '^[0-9]{1,9}$' }), 'dead-lettered at least this long ago'),
        query('limit', Type.String({ pattern: '^[0-9]{1,6}$' }), 'at most this many (default 100, at most 1000)'),
      ],
      ok: [200, DeadLetterList, 'the letters'],
      problems: ['validation_error'],
    },
  },
  '/admin/dead-letters/groups': {
    get: {
      summary: 'Dead letters waiting for an operator (neither purged nor replayed), by service, event type and reason; largest groups first',
      tag: 'operations',
      auth: 'admin',
      ok: [200, DeadLetterGroupList, 'the groups'],
    },
  },
  '/admin/services': {
    get: {
      summary: "Every saga service's instances, queues (ready, consumers, unacked, delay queues, dead-letter queue), outbox, circuit breakers and last 15 minutes of message handling, from the status reports its instances publish every STATUS_INTERVAL_MS",
      tag: 'operations',
      auth: 'admin',
      ok: [200, ServiceList, 'the services'],
    },
  },
  '/admin/dead-letters/replay': {
    post: {
      summary: 'Send the letters picked (by ids, or a group\'s waiting letters, oldest first) back to their queues, each once, at most 1000 per call (each replay recorded with the admin)',
      tag: 'operations',
      auth: 'admin',
      body: DeadLetterSelectionRequest,
      ok: [202, DeadLetterReplayResult, 'replayed; `more`: the group has more letters waiting'],
      problems: ['validation_error'],
    },
  },
  '/admin/dead-letters/purge': {
    post: {
      summary: 'Purge the letters picked (by ids, or a group\'s waiting letters, oldest first), at most 1000 per call (kept for audit, with the admin who purged them)',
      tag: 'operations',
      auth: 'admin',
      body: DeadLetterSelectionRequest,
      ok: [200, DeadLetterPurgeResult, 'purged; `more`: the group has more letters waiting'],
      problems: ['validation_error'],
    },
  },
  '/admin/dead-letters/{id}': {
    get: { summary: 'One dead letter', tag: 'operations', auth: 'admin', params: [letterId], ok: [200, DeadLetterView, 'the letter'], problems: ['not_found'] },
    delete: { summary: 'Purge it (kept for audit)', tag: 'operations', auth: 'admin', params: [letterId], ok: [204, null, 'purged'], problems: ['not_found'] },
  },
  '/admin/dead-letters/{id}/replay': {
    post: {
      summary: 'Send it back to its queue (recorded)',
      tag: 'operations',
      auth: 'admin',
      params: [letterId, idempotencyKey(false)],
      ok: [202, DeadLetterView, 'replayed'],
      okHeaders: { 'Idempotent-Replayed': replayed },
      problems: ['not_found', 'idempotency_key_invalid', 'idempotency_key_in_use', 'idempotency_key_reused'],
    },
  },
  '/admin/reconciliation/runs': {
    post: {
      summary: 'Reconcile payments with the provider\'s ledger now (the job payment-service.reconcile)',
      tag: 'operations',
      auth: 'admin',
      body: ReconcileRequest,
      ok: [202, JobRun, 'queued (or the run already waiting); its report is the job\'s output'],
      problems: ['validation_error'],
    },
  },
  '/admin/reconciliation': {
    get: {
      summary: 'The last reconciliation reports: checked, healed, needs a person, pending',
      tag: 'operations',
      auth: 'admin',
      ok: [200, ReconciliationStatus, 'the last run, the last complete one, runs in progress and failed'],
    },
  },
  '/admin/jobs/queues': {
    get: { summary: 'Background jobs of every service: counts by state, schedule, last run', tag: 'operations', auth: 'admin', ok: [200, JobQueueList, 'one entry per job'] },
  },
  '/admin/jobs/queues/{name}/runs': {
    post: {
      summary: 'Run a job now (a recurring one runs at most once at a time, with one run waiting)',
      tag: 'operations',
      auth: 'admin',
      params: [{ name: 'name', in: 'path', required: true, schema: Type.String(), description: 'e.g. payment-service.reconcile, or reconcile when only one service has it' }],
      body: RunJobRequest,
      ok: [202, JobRun, 'queued (or the run already waiting)'],
      problems: ['validation_error', 'not_found'],
    },
  },
  '/admin/jobs': {
    get: {
      summary: 'Jobs newest first, with their output or error',
      tag: 'operations',
      auth: 'admin',
      params: [
        query('state', JobsQuery.properties.state, 'created, retry, active, completed, cancelled or failed'),
        query('name', Type.String(), 'a job, e.g. payment-service.reconcile'),
        query('limit', Type.String({ pattern: '^[0-9]{1,6}$' }), 'at most this many (default 20, at most 1000)'),
      ],
      ok: [200, JobList, 'the jobs'],
      problems: ['validation_error', 'not_found'],
    },
  },
  '/admin/jobs/{id}': {
    get: { summary: 'One job', tag: 'operations', auth: 'admin', params: [jobId], ok: [200, JobView, 'the job'], problems: ['not_found'] },
  },
  '/admin/jobs/{id}/retry': {
    post: {
      summary: 'Run a failed job once more',
      tag: 'operations',
      auth: 'admin',
      params: [jobId],
      ok: [202, JobView, 'waiting for its next attempt'],
      problems: ['not_found', 'job_not_failed'],
    },
  },
};

/** Problems any operation may answer, besides its own. */
const COMMON_PROBLEMS: ProblemType[] = ['rate_limited', 'service_unavailable', 'request_timeout', 'internal_error'];
/** Every route behind the token reads a body, if one is sent, before its handler runs (create-app.ts). */
const BODY_PROBLEMS: ProblemType[] = ['malformed_json', 'payload_too_large', 'unsupported_media_type'];
/** A path parameter that does not percent-decode (`/orders/%ZZ`) is refused before the handler runs (problem.ts). */
const PATH_PROBLEMS: ProblemType[] = ['validation_error'];

/** The health probes and the console's page answer before the token is read and the rate limit counts (create-app.ts). */
const isProbe = (path: string) => path === '/healthz' || path === '/readyz' || path === '/console';

/** RateLimit-* on a problem answer: required, except where admission control may answer before the limit counts. */
function rateLimitHeaders(types: ProblemType[]): Record<string, Header> {
  if (!types.includes('overloaded')) return RATE_LIMIT_HEADERS;
  return Object.fromEntries(
    Object.entries(RATE_LIMIT_HEADERS).map(([name, header]) => [
      name,
      { ...header, required: false, description: `${header.description} (absent on \`overloaded\`, which is answered before the rate limit counts)` },
    ]),
  );
}

function problemHeaders(status: number, types: ProblemType[], limited: boolean): Record<string, Header> {
  return {
    ...(limited ? rateLimitHeaders(types) : {}),
    ...(status === 401 ? { 'WWW-Authenticate': { description: 'Bearer realm="order-api"', required: true, schema: Type.String({ pattern: '^Bearer ' }) } } : {}),
    ...(status === 429 || status === 503 ? { 'Retry-After': types.includes('overloaded') ? overloadedRetryAfter : retryAfter(true) } : {}),
    ...(types.includes('idempotency_key_in_use') ? { 'Retry-After': retryAfter(false) } : {}),
  };
}

function problemResponse(types: ProblemType[], headers: Record<string, Header>) {
  return {
    description: types.map((type) => `\`${type}\``).join(', '),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: {
      'application/problem+json': {
        schema: { ...Problem, properties: { ...Problem.properties, type: { type: 'string', enum: types.map(problemTypeUri) } } },
      },
    },
  };
}

function operationDocument(path: string, method: string, op: Operation) {
  const limited = !isProbe(path);
  const problems = [
    ...new Set([
      ...(op.problems ?? []),
      ...(op.auth ? (['unauthorized', ...BODY_PROBLEMS] as const) : []),
      ...(op.auth === 'admin' ? (['forbidden'] as const) : []),
      ...(op.params?.some((p) => p.in === 'path') ? PATH_PROBLEMS : []),
      ...(limited ? COMMON_PROBLEMS : []),
    ]),
  ];
  const byStatus = new Map<number, ProblemType[]>();
  for (const type of problems) byStatus.set(PROBLEM_TYPES[type].status, [...(byStatus.get(PROBLEM_TYPES[type].status) ?? []), type]);
  const [status, schema, description] = op.ok;
  const okHeaders = { ...(limited ? RATE_LIMIT_HEADERS : {}), ...op.okHeaders, ...(op.conditional ? { ETag: etag } : {}) };
  const params = [...(op.params ?? []), ...(op.conditional ? [ifNoneMatch] : [])];
  const responses: Record<string, unknown> = {
    [status]: {
      description,
      ...(Object.keys(okHeaders).length > 0 ? { headers: okHeaders } : {}),
      ...(schema ? { content: { 'application/json': { schema } } } : path === '/docs' || path === '/console' ? { content: { 'text/html': { schema: { type: 'string' } } } } : {}),
    },
  };
  if (op.conditional) {
    responses[304] = {
      description: 'Not Modified: the If-None-Match given is current (with `wait`: it stayed current for the whole wait); no body',
      headers: { ETag: etag, ...(limited ? RATE_LIMIT_HEADERS : {}) },
    };
  }
  for (const [code, types] of [...byStatus].sort(([a], [b]) => a - b)) responses[code] = problemResponse(types, problemHeaders(code, types, limited));
  if (path === '/readyz') {
    responses[503] = { description: 'a dependency does not answer', headers: { 'Retry-After': retryAfter(true) }, content: { 'application/json': { schema: Health } } };
  }
  return {
    operationId: `${method}${path.replace(/[{}]/g, '').replace(/[/.-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: op.summary,
    tags: [op.tag],
    security: op.auth ? [{ bearer: [] }] : [],
    ...(params.length > 0 ? { parameters: params.map(({ schema, ...p }) => ({ ...p, schema })) } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
    responses,
  };
}

export function openApiDocument() {
  const paths = Object.fromEntries(
    Object.entries(OPERATIONS).map(([path, methods]) => [
      path,
      Object.fromEntries(Object.entries(methods).map(([method, op]) => [method, operationDocument(path, method, op)])),
    ]),
  );
  // JSON round trip: drops TypeBox's symbol keys, leaving plain JSON Schema.
  return JSON.parse(
    JSON.stringify({
      openapi: '3.1.0',
      info: {
        title: 'Order API',
        version: '1.0.0',
        description:
          'Takes orders and runs each as a saga (stock, payment, shipping) with compensations. Errors are RFC 9457 problem documents. Every answer (the health probes and `overloaded` refusals aside) carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset. While too many orders are in progress, POST /orders answers 503 `overloaded` with Retry-After, having written nothing; reads and cancels are always served.',
      },
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An HS256 token signed with AUTH_JWT_SECRET (npm run token), or, when AUTH_JWKS_URL is set, a token of the identity provider checked against its published keys. 503 service_unavailable while those keys cannot be fetched.' } } },
      paths,
    }),
  ) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };
}

export function openApiRouter(): express.Router {
  const document = openApiDocument();
  const body = JSON.stringify(document);
  const html = docsPage(document);
  const router = express.Router();
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(body);
  });
  router.get('/docs', (_req, res) => {
    res.type('text/html').send(html);
  });
  return router;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function docsPage(document: ReturnType<typeof openApiDocument>): string {
  const sections = Object.entries(OPERATIONS).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const responses = document.paths[path]![method]!.responses;
      const params = (op.params ?? []).map((p) => `<li><code>${escape(p.name)}</code> (${p.in}${p.required ? ', required' : ''}): ${escape(p.description)}</li>`).join('');
      const body = op.body ? `<details><summary>request body</summary><pre>${escape(JSON.stringify(JSON.parse(JSON.stringify(op.body)), null, 2))}</pre></details>` : '';
      const rows = Object.entries(responses)
        .map(([status, r]) => `<tr><td>${status}</td><td>${escape((r as { description: string }).description)}</td></tr>`)
        .join('');
      return `<section><h2><span class="m">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2><p>${escape(op.summary)}${op.auth ? ` — Bearer token (${op.auth})` : ''}</p>${params ? `<ul>${params}</ul>` : ''}${body}<table><tr><th>status</th><th>answer</th></tr>${rows}</table></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Order API</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code,pre{font-family:ui-monospace,monospace}
pre{background:#f5f5f5;padding:.5rem;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
.m{background:#234;color:#fff;padding:0 .4rem;border-radius:3px;font-size:.8em}section{border-top:1px solid #ddd;margin-top:1.5rem}
</style></head><body><h1>Order API</h1><p>${escape(String((document as unknown as { info: { description: string } }).info.description))} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>${sections.join('')}</body></html>`;
}
