import { describe, expect, it } from 'vitest';
import { isDependencyTlsError } from '../errors/dependency-tls-error.js';
import { tlsFailure, tlsFailureReason } from './tls-failure.js';

const withCode = (message: string, code: string, extra: object = {}) => Object.assign(new Error(message), { code, ...extra });

describe('telling TLS failures from other connection failures', () => {
  it('when the server certificate does not verify, then the reason is OpenSSL\'s, with its code', () => {
    expect(tlsFailureReason(withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'))).toEqual({
      kind: 'server-certificate',
      reason: 'self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)',
    });
  });

  it('when the failure is wrapped (a cause, an AggregateError), then it is still found', () => {
    const inner = withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(tlsFailureReason(new AggregateError([new Error('outer', { cause: inner })]))?.kind).toBe('server-certificate');
  });

  it('when the server answers TLS with plain text or asks for a client certificate, then the reason says so plainly', () => {
    expect(tlsFailureReason(withCode('…:wrong version number:…', 'ERR_SSL_WRONG_VERSION_NUMBER', { reason: 'wrong version number' }))).toEqual({
      kind: 'no-tls',
      reason: 'the server did not answer in TLS (is this its TLS port?) (ERR_SSL_WRONG_VERSION_NUMBER)',
    });
    expect(tlsFailureReason(withCode('…', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))?.kind).toBe('client-certificate');
    expect(tlsFailureReason(new Error('The server does not support SSL connections'))?.kind).toBe('no-tls');
  });

  it('when the failure has nothing to do with TLS, then it is not reported as TLS', () => {
    expect(tlsFailureReason(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBeUndefined();
    expect(tlsFailure('PostgreSQL', 'postgres://app:pw@db/x', withCode('password authentication failed', '28P01'))).toBeUndefined();
  });

  it('when a TLS failure is reported, then it names the server and its URL without the password, with a hint for that server', () => {
    const error = tlsFailure('Redis', 'rediss://:s3cret@cache.example:6380', withCode('certificate has expired', 'CERT_HAS_EXPIRED'));
    expect(isDependencyTlsError(error)).toBe(true);
    expect(error?.message).toBe('Redis TLS connection failed (rediss://:***@cache.example:6380): certificate has expired (CERT_HAS_EXPIRED)');
    expect(error?.hint).toContain('REDIS_TLS_CA_FILE');
  });
});
