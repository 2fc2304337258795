import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { Logger } from '../logging/logger.js';
import { retry, type RetryOptions } from '../resilience/retry-policy.js';
import { HttpNetworkError, HttpStatusError, HttpTimeoutError, isTransientHttpError, parseRetryAfter } from './http-errors.js';

export interface HTTPClientOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged. */
  apiKey: string;
  /** Per-request timeout; when it passes the request is aborted and its socket closed. */
  timeoutMs: number;
  retry?: RetryOptions;
  logger: Logger;
  userAgent?: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * JSON-over-HTTP client, a port of the Python `HTTPClient` (seeds/003) on axios.
 * - URLs join as the Python does: `base_url.rstrip('/') + '/' + path.lstrip('/')`.
 * - The timeout really cancels: an AbortController aborts the request (axios destroys the socket),
 *   where httpx's timeout and axios' own `timeout` only stop waiting.
 * - Retries only transient failures (network, timeout, 429, 5xx), with backoff, jitter and
 *   Retry-After. Deliberate difference: a POST is retried only when it carries an
 *   `Idempotency-Key` — the Python retried every POST, which can charge twice.
 * - One keep-alive agent per client instead of a new connection per request.
 */
export class HTTPClient {
  private readonly axios: AxiosInstance;
  private readonly baseUrl: string;

  constructor(private readonly options: HTTPClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.axios = axios.create({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
      validateStatus: () => true,
      maxRedirects: 0,
      headers: {
        Authorization: `Bearer ${options.apiKey}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'User-Agent': options.userAgent ?? 'order-platform/1',
      },
    });
  }

  url(path: string): string {
    return `${this.baseUrl}/${path.replace(/^\/+/, '')}`;
  }

  async get(path: string, options: RequestOptions & { params?: Record<string, string | number> } = {}): Promise<unknown> {
    return this.send('GET', path, undefined, options, true);
  }

  async post(path: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    const idempotent = Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'idempotency-key');
    return this.send('POST', path, body, options, idempotent);
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: RequestOptions & { params?: Record<string, string | number> },
    retryable: boolean,
  ): Promise<unknown> {
    return retry(() => this.once(method, path, body, options), retryable ? (this.options.retry ?? {}) : { maxAttempts: 1 }, {
      shouldRetry: isTransientHttpError,
      ...(options.signal ? { signal: options.signal } : {}),
      onRetry: (error, attempt, delayMs) =>
        this.options.logger.warn('http request failed; retrying', { method, path, attempt, delay_ms: delayMs, error }),
    });
  }

  private async once(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: RequestOptions & { params?: Record<string, string | number> },
  ): Promise<unknown> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onCallerAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const response = await this.axios.request({
        method,
        url: this.url(path),
        data: body,
        params: options.params,
        headers: options.headers,
        signal: controller.signal,
      });
      if (response.status >= 200 && response.status < 300) return response.data;
      throw new HttpStatusError(response.status, response.data, parseRetryAfter(response.headers['retry-after'] as string | undefined), {
        context: { method, path },
      });
    } catch (error) {
      if (error instanceof HttpStatusError) throw error;
      if (timedOut) throw new HttpTimeoutError(`${method} ${path} timed out after ${this.options.timeoutMs} ms`, { cause: error });
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const code = isAxiosError(error) ? error.code : undefined;
      throw new HttpNetworkError(`${method} ${path} failed: ${code ?? (error as Error).message}`, code !== 'ECONNREFUSED', {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
    }
  }
}
