import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openssl = (cwd: string, ...args: string[]) => run('openssl', args, { cwd, timeout: 30_000 });

/** A throwaway certificate authority and what it signed, as PEM files in one temporary folder. */
export interface TestCertificates {
  readonly dir: string;
  /** The CA's certificate: what a client is given to trust. */
  readonly caFile: string;
  /** A server certificate for `localhost` and `127.0.0.1`, signed by the CA, and its key (unencrypted). */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** The server certificate followed by the CA's (a server that sends its whole chain). */
  readonly serverChainFile: string;
  /** A client certificate (CN=`client`) signed by the CA, and its key encrypted with `clientKeyPassphrase`. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly clientKeyPassphrase: string;
  /** Deletes the folder. */
  remove(): Promise<void>;
}

const LEAF_EXTENSIONS = (usage: string, san?: string) =>
  ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${usage}`, ...(san ? [`subjectAltName=${san}`] : [])].join('\n');

/**
 * Makes a new CA (P-256 keys, valid two days) and a server and a client certificate signed by it,
 * with the openssl command line. Each call makes a CA of its own: a second call's CA is one that
 * did not sign the first call's certificates.
 */
export async function makeTestCertificates(name = 'test'): Promise<TestCertificates> {
  const dir = await mkdtemp(path.join(tmpdir(), `certs-${name}-`));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const passphrase = `pass-${name}`;
  try {
    await openssl(dir, 'req', '-x509', ...ec, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name} test CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    await writeFile(path.join(dir, 'server.ext'), LEAF_EXTENSIONS('serverAuth', 'IP:127.0.0.1,DNS:localhost'));
    await writeFile(path.join(dir, 'client.ext'), LEAF_EXTENSIONS('clientAuth'));
    await Promise.all([
      openssl(dir, 'req', ...ec, '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'),
      openssl(dir, 'req', ...ec, '-passout', `pass:${passphrase}`, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=client'),
    ]);
    const sign = (leaf: string) =>
      openssl(dir, 'x509', '-req', '-in', `${leaf}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${Date.now().toString(16)}${leaf.length}`,
        '-days', '2', '-extfile', `${leaf}.ext`, '-out', `${leaf}.pem`);
    await Promise.all([sign('server'), sign('client')]);
    await run('sh', ['-c', 'cat server.pem ca.pem > server-chain.pem'], { cwd: dir });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    caFile: file('ca.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server.key'),
    serverChainFile: file('server-chain.pem'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
    clientKeyPassphrase: passphrase,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
