/**
 * The console's only way to the server: the order API's `/admin/*` endpoints, with the admin token
 * from this tab's session storage in the `Authorization` header (no cookie, so no CSRF).
 */
const TOKEN = 'order-console.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN),
  signIn: (token: string): void => sessionStorage.setItem(TOKEN, token),
  signOut: (): void => sessionStorage.removeItem(TOKEN),
};

/** A problem document (RFC 9457) the API answered, or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

async function problemOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { type?: string; detail?: string; title?: string };
    return new ApiError(response.status, body.type?.split(':').pop() ?? 'error', body.detail ?? body.title ?? response.statusText);
  } catch {
    return new ApiError(response.status, 'error', response.statusText);
  }
}

async function send(method: string, path: string, init: { body?: unknown; token?: string; etag?: string } = {}): Promise<Response> {
  const token = init.token ?? session.token();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  // The browser adds `Cache-Control: no-cache` to a fetch that sets If-None-Match itself; the
  // server answers the condition all the same (honourIfNoneMatch, conditional-get.ts).
  if (init.etag) headers['if-none-match'] = init.etag;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  if (response.status === 304 || response.ok) return response;
  throw await problemOf(response);
}

export async function get<T>(path: string, token?: string): Promise<T> {
  return (await (await send('GET', path, token ? { token } : {})).json()) as T;
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return (await (await send('POST', path, { body })).json()) as T;
}

/**
 * A conditional GET for live pages: with the ETag of what the page shows, the server answers 304
 * while nothing changed (the page keeps what it has: `unchanged`).
 */
export async function getIfChanged<T>(path: string, etag: string | undefined): Promise<{ unchanged: true } | { unchanged: false; body: T; etag: string | undefined }> {
  const response = await send('GET', path, etag ? { etag } : {});
  if (response.status === 304) return { unchanged: true };
  return { unchanged: false, body: (await response.json()) as T, etag: response.headers.get('etag') ?? undefined };
}
