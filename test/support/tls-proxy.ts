import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

/** A TLS listener in front of a plain TCP server, for a server that has no TLS listener of its own. */
export interface TlsProxy {
  /** The loopback port it listens on. */
  readonly port: number;
  /** The TLS failures it has seen (a client that did not send a certificate, a handshake given up). */
  readonly failures: Error[];
  /** How many TLS connections it has forwarded (handshake completed). */
  readonly forwarded: number;
  close(): Promise<void>;
}

export interface TlsProxyOptions {
  /** Where each connection is forwarded, as plain TCP. */
  target: { host: string; port: number };
  certFile: string;
  keyFile: string;
  /** When given: a client must present a certificate signed by this CA. */
  clientCaFile?: string;
}

/**
 * Terminates TLS on 127.0.0.1 (a free port) with the given certificate and pipes each connection to
 * the target: a client speaks TLS with this proxy and its protocol with the real server behind it
 * (the local RabbitMQ, which listens only in plain text here).
 */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const failures: Error[] = [];
  const sockets = new Set<net.Socket>();
  let forwarded = 0;
  const server = tls.createServer(
    {
      cert: readFileSync(options.certFile),
      key: readFileSync(options.keyFile),
      ...(options.clientCaFile ? { ca: readFileSync(options.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (client) => {
      forwarded += 1;
      const upstream = net.connect(options.target);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // Either side closing or failing ends the pair; the error itself is the test's to look at, not a crash.
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    },
  );
  server.on('tlsClientError', (error) => failures.push(error));
  server.on('error', (error) => failures.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    failures,
    get forwarded() {
      return forwarded;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
