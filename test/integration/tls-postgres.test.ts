import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryService } from '../../services/inventory-service/app.js';
import { loadInventoryConfig } from '../../services/inventory-service/config.js';
import { isDependencyTlsError } from '../../shared/errors/dependency-tls-error.js';
import type { RunningParticipant } from '../../shared/startup/start-participant.js';
import { LogCapture } from '../support/log-capture.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { startTlsPostgres, type TlsPostgres } from '../support/tls-postgres.js';

/**
 * TLS to Postgres: a cluster of the test's own (initdb, `ssl = on`, pg_hba `hostssl` only) with a
 * certificate from a CA the test makes. A service given `sslmode=verify-full` and that CA works
 * over TLS; a CA that did not sign the server's certificate, plain text, or a server without TLS
 * each stop the start with one error naming the server, its URL (no password) and why.
 */
const LOCAL_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let certificates: TestCertificates;
let otherCa: TestCertificates;
let server: TlsPostgres;

beforeAll(async () => {
  [certificates, otherCa] = await Promise.all([makeTestCertificates('postgres'), makeTestCertificates('other')]);
  server = await startTlsPostgres(certificates);
});

afterAll(async () => {
  await server?.stop();
  await Promise.all([certificates?.remove(), otherCa?.remove()]);
});

/** The error inventory-service's start fails with, given a DATABASE_URL (nothing else is started). */
async function startFailure(databaseUrl: string): Promise<unknown> {
  const config = loadInventoryConfig({ NAMESPACE: 'tls_probe_', DATABASE_URL: databaseUrl, PORT: '0', METRICS_PORT: '0' });
  return startInventoryService(config, { logger: new LogCapture().loggerFor('inventory-service') }).then(
    async (service) => {
      await service.stop();
      return undefined;
    },
    (error: unknown) => error,
  );
}

describe.skipIf(EXTERNAL_STACK)('Postgres over TLS', () => {
  it('when a service has sslmode=verify-full and the CA in DATABASE_URL, then it starts and every connection it opened is encrypted', async () => {
    const url = server.url(`sslmode=verify-full&sslrootcert=${certificates.caFile}`);
    const stack = await TestStack.start({ DATABASE_URL: url }, { services: ['inventory-service'] });
    try {
      const { runtime } = stack.service('inventory-service') as RunningParticipant;
      expect(await runtime.isReady()).toBe(true);
      const { rows } = await runtime.pool.query<{ ssl: boolean; version: string; backends: number }>(
        `SELECT bool_and(s.ssl) AS ssl, min(s.version) AS version, count(*)::int AS backends
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = $1`,
        [`${stack.namespace}inventory_service`],
      );
      expect(rows[0]).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
      expect(rows[0]!.backends).toBeGreaterThan(0);
      // The stock the service seeded was written through that pool, in the TLS-only cluster.
      const stock = await runtime.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM stock');
      expect(stock.rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });

  it('when sslrootcert is a CA that did not sign the server certificate, then the start fails naming PostgreSQL, the URL and the verification failure', async () => {
    const url = server.url(`sslmode=verify-full&sslrootcert=${otherCa.caFile}`);
    const error = await startFailure(url);
    expect(isDependencyTlsError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`PostgreSQL TLS connection failed (${url})`);
    expect(message).toMatch(/unable to verify the first certificate|self-signed certificate in certificate chain/);
  });

  it('when sslmode=disable meets a server that takes only TLS, then the connection is refused and the start names the cause', async () => {
    const plain = new pg.Client({ connectionString: server.url('sslmode=disable') });
    await expect(plain.connect()).rejects.toMatchObject({ code: '28000', message: expect.stringContaining('no encryption') });
    await plain.end().catch(() => undefined);

    const error = await startFailure(server.url());
    expect(isDependencyTlsError(error)).toBe(true);
    expect((error as Error).message).toContain('the server takes only TLS connections and DATABASE_URL asks for plain text');
  });

  it('when sslmode=verify-full meets a server without TLS, then the start fails instead of falling back to plain text', async () => {
    const url = `${LOCAL_DATABASE_URL}${LOCAL_DATABASE_URL.includes('?') ? '&' : '?'}sslmode=verify-full&sslrootcert=${certificates.caFile}`;
    const error = await startFailure(url);
    expect(isDependencyTlsError(error)).toBe(true);
    expect((error as Error).message).toContain('the server does not support TLS');
  });

  it('when sslrootcert names a file that does not exist, then the start fails naming DATABASE_URL and the file', async () => {
    const error = await startFailure(server.url('sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'));
    expect((error as Error).message).toMatch(/^DATABASE_URL: .*ENOENT.*\/nonexistent\/ca\.pem/);
  });
});
