import { describe, expect, it } from 'vitest';
import { serverAddress } from './server-address.js';
import { urlWithoutPassword } from './url-without-password.js';

describe('server URLs in messages', () => {
  it('when a URL carries a password, then it is shown as *** and everything else as written', () => {
    expect(urlWithoutPassword('postgres://app:s3cret@db.example:5433/orders?sslmode=verify-full&sslrootcert=/run/secrets/ca.pem')).toBe(
      'postgres://app:***@db.example:5433/orders?sslmode=verify-full&sslrootcert=/run/secrets/ca.pem',
    );
    expect(urlWithoutPassword('amqps://guest:guest@broker.example:5671/%2F')).toBe('amqps://guest:***@broker.example:5671/%2F');
    expect(urlWithoutPassword('rediss://:s3cret@cache.example:6380')).toBe('rediss://:***@cache.example:6380');
  });

  it('when the password is a query parameter, then it is hidden too', () => {
    expect(urlWithoutPassword('postgres://app@db.example/orders?password=s3cret&sslmode=disable')).toBe('postgres://app@db.example/orders?password=***&sslmode=disable');
  });

  it('when the text is not a URL, then none of it is shown', () => {
    expect(urlWithoutPassword('app:s3cret@nowhere')).toBe('(unparseable URL)');
  });

  it('when a TLS URL names no port, then its scheme\'s default is meant (amqps 5671, rediss 6379)', () => {
    expect(serverAddress('amqps://broker.example').label).toBe('broker.example:5671');
    expect(serverAddress('rediss://cache.example').label).toBe('cache.example:6379');
  });
});
