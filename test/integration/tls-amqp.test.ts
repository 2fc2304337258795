import { randomBytes } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAddress } from '../../shared/config/server-address.js';
import { amqpTlsOptions } from '../../shared/config/tls-options.js';
import { isDependencyTlsError } from '../../shared/errors/dependency-tls-error.js';
import { connectAmqp } from '../../shared/messaging/amqp-connection.js';
import type { RunningParticipant } from '../../shared/startup/start-participant.js';
import { LogCapture } from '../support/log-capture.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';

/**
 * TLS to RabbitMQ. The local broker has no TLS listener, so each test talks to it through a TLS
 * proxy the test starts (a real handshake with a certificate from a CA the test makes, then the
 * bytes go to the broker): `amqps://` with AMQP_TLS_CA_FILE carries messages; a certificate from
 * another CA, or a missing client certificate where one is required, fails at once with one error
 * naming RabbitMQ, the URL without its password and why.
 */
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const broker = serverAddress(AMQP_URL.split(',')[0]!);
const logs = new LogCapture();
const logger = logs.loggerFor('tls-probe');

let certificates: TestCertificates;
let otherCa: TestCertificates;
let proxy: TlsProxy;
let strangerProxy: TlsProxy;
let clientCertProxy: TlsProxy;

/** The TLS settings a service would read, for one URL. */
const tlsFor = (url: string, files: Record<string, string> = {}) =>
  amqpTlsOptions({ AMQP_URL: url, AMQP_TLS_CA_FILE: '', AMQP_TLS_CERT_FILE: '', AMQP_TLS_KEY_FILE: '', AMQP_TLS_KEY_PASSPHRASE: '', ...files });
// A host name, as a deployment would use: amqplib sends it as the TLS server name (an IP address there draws a Node warning).
const amqpsUrl = (port: number) => `amqps://guest:guest@localhost:${port}`;

beforeAll(async () => {
  [certificates, otherCa] = await Promise.all([makeTestCertificates('amqp'), makeTestCertificates('other')]);
  const target = { host: broker.host, port: broker.port };
  proxy = await startTlsProxy({ target, certFile: certificates.serverCertFile, keyFile: certificates.serverKeyFile });
  strangerProxy = await startTlsProxy({ target, certFile: otherCa.serverCertFile, keyFile: otherCa.serverKeyFile });
  clientCertProxy = await startTlsProxy({ target, certFile: certificates.serverCertFile, keyFile: certificates.serverKeyFile, clientCaFile: certificates.caFile });
});

afterAll(async () => {
  await Promise.all([proxy, strangerProxy, clientCertProxy].map((p) => p?.close()));
  await Promise.all([certificates?.remove(), otherCa?.remove()]);
});

describe.skipIf(EXTERNAL_STACK)('RabbitMQ over TLS', () => {
  it('when the URL is amqps:// and AMQP_TLS_CA_FILE is the CA of the broker certificate, then a message published is consumed over TLS', async () => {
    const url = amqpsUrl(proxy.port);
    const before = proxy.forwarded;
    const connection = await connectAmqp({ url, name: 'tls-probe', logger, tls: tlsFor(url, { AMQP_TLS_CA_FILE: certificates.caFile }) });
    const queue = `tls_probe_${randomBytes(4).toString('hex')}`;
    let received!: (message: ConsumeMessage) => void;
    const delivery = new Promise<ConsumeMessage>((resolve) => (received = resolve));
    const channel = connection.createChannel({
      setup: async (ch: Channel) => {
        await ch.assertQueue(queue, { exclusive: true, autoDelete: true });
        await ch.consume(queue, (message) => message && received(message), { noAck: true });
      },
    });
    try {
      await channel.waitForConnect();
      await channel.sendToQueue(queue, Buffer.from('over tls'));
      expect((await delivery).content.toString()).toBe('over tls');
      expect(proxy.forwarded).toBeGreaterThan(before);
    } finally {
      await channel.close();
      await connection.close();
    }
  });

  it('when a service is configured with amqps:// and the CA, then it starts and is ready over the TLS connection', async () => {
    const before = proxy.forwarded;
    const stack = await TestStack.start(
      { AMQP_URL: amqpsUrl(proxy.port), AMQP_TLS_CA_FILE: certificates.caFile },
      { services: ['shipping-service'] },
    );
    try {
      const { runtime } = stack.service('shipping-service') as RunningParticipant;
      expect(await runtime.isReady()).toBe(true);
      // The start-up check's handshake, then the service's connection.
      expect(proxy.forwarded).toBeGreaterThanOrEqual(before + 2);
      expect(stack.logs.lines.some((line) => line.includes('amqp connected') && line.includes(`localhost:${proxy.port}`))).toBe(true);
    } finally {
      await stack.stop();
    }
  });

  it('when the broker certificate is from another CA, then the connection fails at once with one error naming RabbitMQ, the URL without its password and the verification failure', async () => {
    const url = amqpsUrl(strangerProxy.port);
    const started = Date.now();
    const error = await connectAmqp({ url, name: 'tls-probe', logger, tls: tlsFor(url, { AMQP_TLS_CA_FILE: certificates.caFile }) }).catch((e: unknown) => e);
    expect(isDependencyTlsError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`RabbitMQ TLS connection failed (amqps://guest:***@localhost:${strangerProxy.port})`);
    expect(message).toMatch(/unable to verify the first certificate|self-signed certificate in certificate chain/);
    expect(message).not.toContain('guest:guest');
    // Refused on the handshake, not after the connect timeout (10 s) of retries.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(strangerProxy.forwarded).toBe(0);
  });

  it('when no CA file is given, then the test CA is not trusted either (Node built-in CAs only)', async () => {
    const url = amqpsUrl(proxy.port);
    const error = await connectAmqp({ url, name: 'tls-probe', logger, tls: tlsFor(url) }).catch((e: unknown) => e);
    expect(isDependencyTlsError(error)).toBe(true);
  });

  it('when the broker requires a client certificate, then none fails with a clear reason and AMQP_TLS_CERT_FILE with an encrypted AMQP_TLS_KEY_FILE connects', async () => {
    const url = amqpsUrl(clientCertProxy.port);
    const withoutCert = await connectAmqp({ url, name: 'tls-probe', logger, tls: tlsFor(url, { AMQP_TLS_CA_FILE: certificates.caFile }) }).catch((e: unknown) => e);
    expect(isDependencyTlsError(withoutCert)).toBe(true);
    expect((withoutCert as Error).message).toContain('client certificate');

    const tls = tlsFor(url, {
      AMQP_TLS_CA_FILE: certificates.caFile,
      AMQP_TLS_CERT_FILE: certificates.clientCertFile,
      AMQP_TLS_KEY_FILE: certificates.clientKeyFile,
      AMQP_TLS_KEY_PASSPHRASE: certificates.clientKeyPassphrase,
    });
    const connection = await connectAmqp({ url, name: 'tls-probe', logger, tls });
    try {
      expect(connection.isConnected()).toBe(true);
    } finally {
      await connection.close();
    }
  });

  it('when the client key passphrase is wrong, then the start is refused naming the variables, before any connection', () => {
    const url = amqpsUrl(clientCertProxy.port);
    const attempt = () =>
      tlsFor(url, { AMQP_TLS_CERT_FILE: certificates.clientCertFile, AMQP_TLS_KEY_FILE: certificates.clientKeyFile, AMQP_TLS_KEY_PASSPHRASE: 'not-the-passphrase' });
    expect(attempt).toThrow(/^AMQP_TLS_CERT_FILE, AMQP_TLS_KEY_FILE, AMQP_TLS_KEY_PASSPHRASE: not usable for TLS/);
  });

  it('when amqps:// meets a port without TLS, then the start fails naming it, with no plain-text attempt', async () => {
    const url = `amqps://guest:guest@${broker.host}:${broker.port}`;
    const error = await connectAmqp({ url, name: 'tls-probe', logger, tls: tlsFor(url, { AMQP_TLS_CA_FILE: certificates.caFile }) }).catch((e: unknown) => e);
    expect(isDependencyTlsError(error)).toBe(true);
    expect((error as Error).message).toContain('the server did not answer in TLS');
  });
});
