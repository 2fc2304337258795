/** Query parameters that may carry a secret in a connection URL (libpq's `password`, `sslpassword`). */
const SECRET_PARAMS = /^(password|sslpassword|passphrase)$/i;

/**
 * A server URL fit for a log line or an error message: the password (in the userinfo or a query
 * parameter) replaced by `***`, everything else (user, host, port, database, sslmode, sslrootcert)
 * kept, since that is what an operator needs to see to fix a connection. Something that does not
 * parse as a URL is not shown at all.
 */
export function urlWithoutPassword(url: string): string {
  let parsed: URL;
  // Without `//` there is no userinfo to find: `user:pw@host` would parse as scheme `user:`.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return '(unparseable URL)';
  try {
    parsed = new URL(url);
  } catch {
    return '(unparseable URL)';
  }
  if (parsed.password) parsed.password = '***';
  // Rebuilt by hand: URLSearchParams would percent-encode the `/` of an sslrootcert path.
  const query = [...parsed.searchParams].map(([key, value]) => `${key}=${SECRET_PARAMS.test(key) ? '***' : value}`).join('&');
  parsed.search = '';
  parsed.hash = '';
  return query ? `${parsed.toString()}?${query}` : parsed.toString();
}
