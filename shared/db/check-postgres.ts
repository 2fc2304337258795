import pg from 'pg';
import { ConfigError } from '../config/load-env.js';
import { urlWithoutPassword } from '../config/url-without-password.js';
import { DependencyTlsError } from '../errors/dependency-tls-error.js';
import { tlsFailure } from '../startup/tls-failure.js';

/** Postgres's refusal of a plain-text connection by a `hostssl`-only pg_hba.conf: SQLSTATE 28000, "… no encryption". */
const refusedPlainText = (error: unknown) =>
  (error as { code?: unknown }).code === '28000' && error instanceof Error && /no encryption/.test(error.message);

/**
 * Opens one connection as the pools will (node-postgres reads `sslmode`, `sslrootcert`, `sslcert`
 * and `sslkey` from the URL) and closes it, so that TLS problems stop the start with one clear
 * line before anything else uses the database: a certificate that does not verify, a server
 * without TLS, or a server that takes only TLS asked for plain text (a
 * {@link DependencyTlsError}); an sslrootcert/sslcert/sslkey file that cannot be read (a
 * {@link ConfigError}). Any other failure is thrown as it is.
 */
export async function assertPostgresConnects(connectionString: string, timeoutMs = 5_000): Promise<void> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  } catch (error) {
    // node-postgres reads the certificate files named in the URL as it parses it.
    throw new ConfigError(`DATABASE_URL: ${(error as Error).message}`, { cause: error });
  }
  // The check's own connection: a failure after it connected is not what it checks.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const tls = tlsFailure('PostgreSQL', connectionString, error);
    if (tls) throw tls;
    if (refusedPlainText(error)) {
      throw new DependencyTlsError(
        'PostgreSQL',
        urlWithoutPassword(connectionString),
        `the server takes only TLS connections and DATABASE_URL asks for plain text (${(error as Error).message})`,
        "add sslmode=verify-full&sslrootcert=<the CA file that signed the server's certificate> to DATABASE_URL",
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
