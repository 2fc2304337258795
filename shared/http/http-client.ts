import http from 'node:http';
import https from 'node:https';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { Logger } from '../logging/logger.js';
import { captureTraceContext, failSpan, tracer } from '../observability/trace-context.js';
import { compose, type Policy } from '../resilience/policy.js';
import { retryPolicy, type RetryOptions } from '../resilience/retry-policy.js';
import { timeoutPolicy } from '../resilience/timeout-policy.js';
import { HttpNetworkError, HttpStatusError, HttpTimeoutError, isHttpStatusError, isTransientHttpError, parseRetryAfter } from './http-errors.js';
import { routeTemplate } from './route-template.js';

/** Options of {@link HTTPClient}. */
export interface HTTPClientOptions {
  /** e.g. `http://127.0.0.1:4010/v1/`; trailing slashes are dropped as in the Python. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged and never kept on an error. */
  apiKey: string;
  /** Per attempt: when it passes, the request is aborted and its socket destroyed. */
  timeoutMs: number;
  /** Backoff for transient failures. @defaultValue {@link DEFAULT_RETRY_OPTIONS} (3 attempts, 4 s base, 10 s cap) */
  retry?: RetryOptions;
  logger: Logger;
  /** @defaultValue 'order-platform/1' */
  userAgent?: string;
  /** Most connections to the server at once; requests beyond wait for one. @defaultValue 64 */
  maxSockets?: number;
}

/** Per-request options of {@link HTTPClient.get} and {@link HTTPClient.post}. */
export interface RequestOptions {
  /** Extra headers, e.g. `Idempotency-Key`. */
  headers?: Record<string, string>;
  /** The caller's cancellation; combined with the per-request timeout. */
  signal?: AbortSignal;
  /**
   * Narrows which transient failures of this request are retried (both this and the transient
   * check must agree). A charge passes "only failures proving nothing was performed".
   */
  retryWhen?: (error: unknown) => boolean;
  /**
   * Arranges the policies this request runs through, outermost first: it receives the client's own
   * retry and timeout for the request and returns them composed with the caller's, e.g.
   * `({ retry, timeout }) => compose(bulkhead, breaker, retry, timeout)`.
   * @defaultValue `({ retry, timeout }) => compose(retry, timeout)`: retries of attempts that each have `timeoutMs`
   */
  policies?: (own: RequestPolicies) => Policy;
}

/** The client's own policies for one request, handed to {@link RequestOptions.policies}. */
export interface RequestPolicies {
  /**
   * Retries transient failures (network, timeout, 429, 5xx) with the client's backoff; a POST only
   * when it carries an `Idempotency-Key`, and only the failures `retryWhen` accepts.
   */
  retry: Policy;
  /** Aborts the request after `timeoutMs` (its socket destroyed) with {@link HttpTimeoutError}. */
  timeout: Policy;
}

/** Options of {@link HTTPClient.get}. */
export interface GetOptions extends RequestOptions {
  /** Query string parameters. */
  params?: Record<string, string | number | boolean>;
}

/** Connect-phase errors: the socket never opened, so the server cannot have seen the request. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * JSON-over-HTTP client on axios, ported from the payment adapter's Python design (an async
 * `HTTPClient` on httpx with tenacity retries, used by a `StripePaymentService` adapter behind a
 * `CircuitBreaker`); the mock provider speaks that client's contract.
 *
 * - URLs join as the Python does: `base_url.rstrip('/') + '/' + path.lstrip('/')`.
 * - Headers: `Authorization: Bearer <apiKey>`, `Content-Type` and `Accept: application/json`.
 * - Differs from the Python: the timeout really cancels. httpx's timeout (like axios' own
 *   `timeout`) only bounds waiting; here the timeout policy aborts the request's signal and axios
 *   destroys the socket, so a hung server holds nothing. The abort's reason is the
 *   {@link HttpTimeoutError}, which tells it apart from the caller's abort; it runs on setTimeout
 *   (not `AbortSignal.timeout`) so that fake timers drive it in tests.
 * - Retry and timeout are policies (see `shared/resilience/policy.ts`), by default composed as
 *   retry → timeout (a timeout per attempt); a caller arranges them with its own layers through
 *   {@link RequestOptions.policies}, e.g. a bulkhead and a breaker outside the retries.
 * - Non-2xx answers become {@link HttpStatusError} (axios' `validateStatus` accepts every status,
 *   and this class decides), with the JSON body and any Retry-After.
 * - Retries only transient failures (network, timeout, 429, 5xx) through the retry policy.
 *   Deliberate difference: a POST is retried only when it carries an `Idempotency-Key` header;
 *   the Python retried every POST, which can charge a customer twice.
 * - One keep-alive agent per client instead of a new connection per request (the Python opened
 *   an `httpx.AsyncClient` per call).
 * - Secrets: the bearer token lives only in the axios instance's default headers. Errors keep a
 *   stripped-down cause (name, message, code) rather than axios' error, whose `config` holds the
 *   headers, so logging an error (or its cause chain) cannot leak the key.
 * - {@link HTTPClient.interceptors} are axios's own, e.g. to time each attempt (request-timing.ts).
 * - Traces: each attempt is a CLIENT span (`POST /payments/create`; a retry's carries
 *   `http.request.resend_count`), and sends its W3C `traceparent` so that the server's span is its
 *   child. Per attempt rather than per call: each attempt is a request the server sees.
 */
export class HTTPClient {
  private readonly axios: AxiosInstance;
  private readonly baseUrl: string;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** `server.address` and `server.port` of every span. */
  private readonly server: { address: string; port: number };

  constructor(private readonly options: HTTPClientOptions) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const base = new URL(this.baseUrl);
    this.server = { address: base.hostname, port: Number(base.port) || (base.protocol === 'https:' ? 443 : 80) };
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'json',
      headers: {
        Authorization: `Bearer ${options.apiKey}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'User-Agent': options.userAgent ?? 'order-platform/1',
      },
    });
  }

  /** The absolute URL for `path`, joined as the Python client joins it. */
  url(path: string): string {
    return `${this.baseUrl}/${path.replace(/^\/+/, '')}`;
  }

  /** GET `path`; resolves with the parsed JSON body. Retried on transient failures. */
  async get(path: string, options: GetOptions = {}): Promise<unknown> {
    return this.send('GET', path, undefined, options, true);
  }

  /**
   * POST `body` as JSON to `path`; resolves with the parsed JSON body. Retried on transient
   * failures only when `options.headers` carries an `Idempotency-Key`.
   */
  async post(path: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    const keyed = Object.keys(options.headers ?? {}).some((name) => name.toLowerCase() === 'idempotency-key');
    return this.send('POST', path, body, options, keyed);
  }

  /**
   * axios's own interceptors: `interceptors.request.use(config => …)` may change a request before it
   * is sent (each attempt; change the config given and return it, not a copy, for request-timing.ts
   * to recognise it), `interceptors.response.use(onAnswer, onFailure)` sees each answer, any
   * status included (this client decides which statuses fail, after the interceptors). As in
   * axios, request interceptors run last added first and response ones in the order added. A
   * response interceptor's failure handler must rethrow the error it is given, unchanged, for the
   * client to tell a timeout from a lost connection. They see the headers, the bearer token
   * included: never log a request's config.
   */
  get interceptors(): AxiosInstance['interceptors'] {
    return this.axios.interceptors;
  }

  /** Closes idle keep-alive sockets (shutdown, tests). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown, options: GetOptions, retryable: boolean): Promise<unknown> {
    const own: RequestPolicies = {
      retry: retryPolicy({
        ...(retryable ? this.options.retry : { ...this.options.retry, maxAttempts: 1 }),
        shouldRetry: (error) => isTransientHttpError(error) && (options.retryWhen?.(error) ?? true),
        onRetry: (error, attempt, delayMs) =>
          this.options.logger.warn('http request failed; retrying', {
            method,
            path,
            attempt,
            delay_ms: delayMs,
            ...(isHttpStatusError(error) ? { status: error.status } : {}),
            error,
          }),
      }),
      timeout: timeoutPolicy({
        ms: this.options.timeoutMs,
        error: () => new HttpTimeoutError(`${method} ${path} timed out after ${this.options.timeoutMs} ms`, { context: { method, path } }),
      }),
    };
    const policy = options.policies ? options.policies(own) : compose(own.retry, own.timeout);
    return policy.execute(({ signal, attempt }) => this.once(method, path, body, options, signal, (attempt ?? 1) - 1), options.signal);
  }

  /** One attempt, as a CLIENT span; `signal` aborts it (the caller's, or the timeout's). */
  private async once(method: 'GET' | 'POST', path: string, body: unknown, options: GetOptions, signal: AbortSignal | undefined, attempt: number): Promise<unknown> {
    const span = this.startSpan(method, path, options, attempt);
    const traceHeaders = captureTraceContext(trace.setSpan(context.active(), span));
    try {
      const headers = traceHeaders ? { ...options.headers, ...traceHeaders } : options.headers;
      const data = await this.attempt(method, path, body, { ...(options.params ? { params: options.params } : {}), ...(headers ? { headers } : {}) }, signal, span);
      span.end();
      return data;
    } catch (error) {
      failSpan(span, error);
      span.end();
      throw error;
    }
  }

  private startSpan(method: 'GET' | 'POST', path: string, options: GetOptions, attempt: number): Span {
    const span = tracer.startSpan(`${method} ${routeTemplate(path)}`, { kind: SpanKind.CLIENT });
    if (span.isRecording()) {
      const query = options.params ? `?${new URLSearchParams(Object.entries(options.params).map(([k, v]): [string, string] => [k, String(v)]))}` : '';
      span.setAttributes({
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_URL_FULL]: `${this.url(path)}${query}`,
        [ATTR_SERVER_ADDRESS]: this.server.address,
        [ATTR_SERVER_PORT]: this.server.port,
        ...(attempt > 0 ? { [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt } : {}),
      });
    }
    return span;
  }

  private async attempt(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: Pick<GetOptions, 'params' | 'headers'>,
    signal: AbortSignal | undefined,
    span: Span,
  ): Promise<unknown> {
    const context = { method, path };
    try {
      const response = await this.axios.request({
        method,
        url: this.url(path),
        data: body,
        params: options.params,
        headers: options.headers,
        ...(signal ? { signal } : {}),
      });
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      if (response.status >= 400) span.setAttribute(ATTR_ERROR_TYPE, String(response.status));
      if (response.status >= 200 && response.status < 300) return response.data;
      const retryAfter = response.headers['retry-after'];
      throw new HttpStatusError(response.status, response.data, {
        retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined),
        context,
      });
    } catch (error) {
      if (isHttpStatusError(error)) throw error;
      // Aborted: by the timeout (its reason is the HttpTimeoutError) or by the caller (its reason).
      if (signal?.aborted) throw signal.reason ?? error;
      const errorCode = isAxiosError(error) ? error.code : undefined;
      throw new HttpNetworkError(`${method} ${path} failed: ${errorCode ?? (error as Error).message}`, {
        sent: !NOT_SENT_CODES.has(errorCode ?? ''),
        ...(errorCode ? { errorCode } : {}),
        cause: strip(error),
        context,
      });
    }
  }
}

/** Keeps what explains a failure and drops axios' `config`/`request`, which hold the bearer token. */
function strip(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(source.message);
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}
