import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from './process-stack.js';
import type { TestCertificates } from './test-certificates.js';

/** A redis-server of a test's own that listens only with TLS. */
export interface TlsRedis {
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` as a child process with no plain port (`--port 0`) and a TLS port on
 * 127.0.0.1 (a free one) with the given server certificate, no client certificate required, and
 * nothing kept on disk. Resolves once it logs that it accepts connections.
 */
export async function startTlsRedis(certificates: TestCertificates): Promise<TlsRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'redis-tls-'));
  const port = (await freePorts(1))[0]!;
  const child = spawn(
    'redis-server',
    [
      '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
      '--tls-cert-file', certificates.serverCertFile, '--tls-key-file', certificates.serverKeyFile,
      '--tls-ca-cert-file', certificates.caFile, '--tls-auth-clients', 'no',
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output}`)), 10_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${output}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
