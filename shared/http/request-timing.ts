import { isAxiosError, isCancel, type InternalAxiosRequestConfig } from 'axios';
import type { HTTPClient } from './http-client.js';
import { isHttpTimeoutError } from './http-errors.js';
import { routeTemplate } from './route-template.js';

/** One request on the wire: an attempt, without the time spent queued or waiting to retry. */
export interface RequestTiming {
  method: string;
  /** The URL's path as a template, ids as `{id}`, e.g. `/payments/{id}`. */
  route: string;
  /** The status answered, or undefined when none came. */
  status: number | undefined;
  /** Why no status came: the timeout fired, the caller cancelled, or the connection failed. */
  failure: 'timeout' | 'cancelled' | 'network' | undefined;
  seconds: number;
}

/**
 * Times each request `client` sends, through axios's interceptors: a request interceptor stamps
 * the start, a response interceptor (or its failure handler) reports the end to `observe`. Returns
 * a function that removes both. `observe` must not throw: it runs inside the request. A request
 * interceptor added before this one must change the config it is given and return it, not a copy:
 * the timing is matched to its request by that object.
 */
export function timeRequests(client: HTTPClient, observe: (timing: RequestTiming) => void): () => void {
  const base = client.url('');
  // Keyed by the request's config, the one object axios carries from request to response or error.
  const started = new WeakMap<InternalAxiosRequestConfig, number>();
  const report = (config: InternalAxiosRequestConfig | undefined, status: number | undefined, failure: RequestTiming['failure']) => {
    const at = config && started.get(config);
    if (config === undefined || at === undefined) return;
    started.delete(config);
    observe({ method: (config.method ?? 'get').toUpperCase(), route: routeOf(config.url, base), status, failure, seconds: (performance.now() - at) / 1000 });
  };
  const request = client.interceptors.request.use((config) => {
    started.set(config, performance.now());
    return config;
  });
  const response = client.interceptors.response.use(
    (answer) => {
      report(answer.config, answer.status, undefined);
      return answer;
    },
    (error: unknown) => {
      if (isAxiosError(error)) {
        const reason: unknown = (error.config?.signal as AbortSignal | undefined)?.reason;
        report(error.config, error.response?.status, error.response ? undefined : isCancel(error) ? (isHttpTimeoutError(reason) ? 'timeout' : 'cancelled') : 'network');
      }
      throw error;
    },
  );
  return () => {
    client.interceptors.request.eject(request);
    client.interceptors.response.eject(response);
  };
}

/** The request's path below the client's base URL (as its spans name it), ids as `{id}`. */
function routeOf(url: string | undefined, base: string): string {
  if (url?.startsWith(base)) return routeTemplate(url.slice(base.length).split('?')[0] ?? '');
  try {
    return routeTemplate(new URL(url ?? '').pathname);
  } catch {
    return '';
  }
}
