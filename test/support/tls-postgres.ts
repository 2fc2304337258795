import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './process-stack.js';
import type { TestCertificates } from './test-certificates.js';

const run = promisify(execFile);

/** A Postgres cluster of a test's own that takes only TLS connections over TCP. */
export interface TlsPostgres {
  readonly port: number;
  /** A connection string for user postgres, database postgres, on 127.0.0.1, with the given query (`sslmode=…`). */
  url(query?: string): string;
  /** Stops the server (immediate) and deletes its folder. */
  stop(): Promise<void>;
}

/** The newest Postgres installed (`/usr/lib/postgresql/<version>/bin`). */
async function postgresBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no Postgres under /usr/lib/postgresql');
  return path.join('/usr/lib/postgresql', versions[0], 'bin');
}

/**
 * Makes a throwaway cluster with initdb in a temporary folder, with `ssl = on` and the server
 * certificate given, listening on 127.0.0.1 (a free port) and a socket in its own folder; pg_hba
 * has `hostssl` for TCP and no plain `host` line, so a plain-text connection is refused. Postgres
 * refuses to run as root: when the test runs as root, initdb and pg_ctl run as the `postgres` user.
 */
export async function startTlsPostgres(certificates: TestCertificates): Promise<TlsPostgres> {
  const bin = await postgresBin();
  const dir = await mkdtemp(path.join(tmpdir(), 'pg-tls-'));
  const data = path.join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const asOwner = (file: string, ...args: string[]) =>
    run(asRoot ? 'runuser' : file, asRoot ? ['-u', 'postgres', '--', file, ...args] : args, { timeout: 60_000 });
  const port = (await freePorts(1))[0]!;
  let started = false;
  const stop = async () => {
    if (started) await asOwner(path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const cert = path.join(dir, 'server.pem');
    const key = path.join(dir, 'server.key');
    await copyFile(certificates.serverCertFile, cert);
    await copyFile(certificates.serverKeyFile, key);
    // The server refuses a key others can read.
    await chmod(key, 0o600);
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      for (const file of [dir, cert, key]) await chown(file, Number(stdout.trim()), Number(gid.trim()));
    }
    await asOwner(path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C');
    await appendFile(
      path.join(data, 'postgresql.conf'),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'ssl = on',
        `ssl_cert_file = '${cert}'`,
        `ssl_key_file = '${key}'`,
        // A throwaway cluster: small, and nothing is worth an fsync.
        'fsync = off',
        'shared_buffers = 16MB',
        'max_connections = 30',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n');
    await asOwner(path.join(bin, 'pg_ctl'), '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start');
    started = true;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url: (query = '') => `postgres://postgres@127.0.0.1:${port}/postgres${query ? `?${query}` : ''}`,
    stop,
  };
}
