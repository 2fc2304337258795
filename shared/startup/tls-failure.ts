import { urlWithoutPassword } from '../config/url-without-password.js';
import { DependencyTlsError } from '../errors/dependency-tls-error.js';
import type { Dependency } from './check-dependencies.js';

/** OpenSSL's certificate verification failures, as Node names them in `error.code`. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What went wrong, as far as the operator's fix goes. */
export type TlsFailureKind = 'server-certificate' | 'client-certificate' | 'no-tls' | 'handshake';

/** OpenSSL handshake failures that have a plainer meaning than OpenSSL's own text. */
const HANDSHAKE_MEANINGS: Record<string, { kind: TlsFailureKind; meaning: string }> = {
  ERR_SSL_WRONG_VERSION_NUMBER: { kind: 'no-tls', meaning: 'the server did not answer in TLS (is this its TLS port?)' },
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: { kind: 'client-certificate', meaning: 'the server requires a client certificate and none was given' },
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: { kind: 'client-certificate', meaning: 'the server did not accept the client certificate' },
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: { kind: 'client-certificate', meaning: 'the server did not accept the client certificate (unknown CA)' },
};

/** node-postgres's answer when the server says it has no TLS (`ssl = off`) to a client that asked for it. */
const PG_NO_TLS = 'The server does not support SSL connections';

/** What to check, by server and by kind of failure. */
export const TLS_HINTS: Record<Dependency, Record<TlsFailureKind, string>> = {
  PostgreSQL: {
    'server-certificate': "check sslrootcert in DATABASE_URL: it must be the CA that signed the server's certificate, and the URL's host must be named in that certificate",
    'client-certificate': "set sslcert and sslkey in DATABASE_URL to a client certificate signed by a CA the server trusts (ssl_ca_file)",
    'no-tls': 'turn TLS on in the server (ssl = on), or point DATABASE_URL at a server that has it',
    handshake: 'check the TLS settings of DATABASE_URL (sslmode, sslrootcert, sslcert, sslkey) against the server',
  },
  RabbitMQ: {
    'server-certificate': "check AMQP_TLS_CA_FILE: it must be the CA that signed the broker's certificate, and the amqps:// host must be named in that certificate",
    'client-certificate': 'set AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE to a client certificate signed by a CA the broker trusts (ssl_options.cacertfile)',
    'no-tls': "point AMQP_URL at the broker's TLS listener (amqps:// default port 5671; listeners.ssl in rabbitmq.conf)",
    handshake: 'check AMQP_TLS_CA_FILE, AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE against the broker\'s ssl_options',
  },
  Redis: {
    'server-certificate': "check REDIS_TLS_CA_FILE: it must be the CA that signed the server's certificate, and the rediss:// host must be named in that certificate",
    'client-certificate': 'set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE to a client certificate signed by a CA the server trusts (tls-ca-cert-file)',
    'no-tls': "point REDIS_URL at the server's tls-port",
    handshake: 'check REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE against the server\'s tls-* settings',
  },
};

/** The error and the errors it wraps (`cause`, AggregateError), outermost first; bounded. */
function* chain(error: unknown, depth = 0): Generator<unknown> {
  if (error === undefined || error === null || depth > 5) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* chain(inner, depth + 1);
  if (error instanceof Error) yield* chain(error.cause, depth + 1);
}

/**
 * Why a connection attempt failed, when TLS is why: a certificate that did not verify (its
 * OpenSSL reason and code), a handshake the server broke off, a server without TLS. Undefined for
 * any other failure (refused, timed out, bad password), which has its own report.
 */
export function tlsFailureReason(error: unknown): { kind: TlsFailureKind; reason: string } | undefined {
  for (const link of chain(error)) {
    if (!(link instanceof Error)) continue;
    const { code, reason } = link as Error & { code?: unknown; reason?: unknown };
    if (typeof code === 'string' && CERTIFICATE_CODES.has(code)) return { kind: 'server-certificate', reason: `${link.message} (${code})` };
    if (typeof code === 'string' && code.startsWith('ERR_SSL_')) {
      const known = HANDSHAKE_MEANINGS[code];
      return { kind: known?.kind ?? 'handshake', reason: `${known?.meaning ?? (typeof reason === 'string' ? reason : 'TLS handshake failed')} (${code})` };
    }
    if (link.message === PG_NO_TLS) return { kind: 'no-tls', reason: 'the server does not support TLS (ssl = off) and sslmode asks for it' };
  }
  return undefined;
}

/** A {@link DependencyTlsError} for a failed connection to `url`, if TLS is why it failed. */
export function tlsFailure(dependency: Dependency, url: string, error: unknown): DependencyTlsError | undefined {
  const failure = tlsFailureReason(error);
  if (!failure) return undefined;
  return new DependencyTlsError(dependency, urlWithoutPassword(url), failure.reason, TLS_HINTS[dependency][failure.kind], { cause: error });
}
