import { Type } from '@sinclair/typebox';

/**
 * TLS to RabbitMQ, used when `AMQP_URL` is `amqps://` (all its nodes). Paths of PEM files; empty:
 * not used. With no CA file the broker's certificate must chain to one of Node's built-in CAs.
 * Spread into `commonEnv`.
 */
export const amqpTlsEnv = {
  /** PEM file of the CA (or CAs) that signed the broker's certificate; the only ones trusted then. */
  AMQP_TLS_CA_FILE: Type.String({ default: '' }),
  /** PEM client certificate, for a broker that asks for one (`ssl_options.fail_if_no_peer_cert`); needs AMQP_TLS_KEY_FILE. */
  AMQP_TLS_CERT_FILE: Type.String({ default: '' }),
  /** PEM private key of AMQP_TLS_CERT_FILE. */
  AMQP_TLS_KEY_FILE: Type.String({ default: '' }),
  /** Secret: passphrase of an encrypted AMQP_TLS_KEY_FILE (also read from AMQP_TLS_KEY_PASSPHRASE_FILE). */
  AMQP_TLS_KEY_PASSPHRASE: Type.String({ default: '' }),
};

/**
 * TLS to Redis, used when `REDIS_URL` is `rediss://`. Paths of PEM files; empty: not used. With no
 * CA file the server's certificate must chain to one of Node's built-in CAs.
 */
export const redisTlsEnv = {
  /** PEM file of the CA (or CAs) that signed the Redis server's certificate; the only ones trusted then. */
  REDIS_TLS_CA_FILE: Type.String({ default: '' }),
  /** PEM client certificate, for a server with `tls-auth-clients yes`; needs REDIS_TLS_KEY_FILE. */
  REDIS_TLS_CERT_FILE: Type.String({ default: '' }),
  /** PEM private key of REDIS_TLS_CERT_FILE. */
  REDIS_TLS_KEY_FILE: Type.String({ default: '' }),
  /** Secret: passphrase of an encrypted REDIS_TLS_KEY_FILE (also read from REDIS_TLS_KEY_PASSPHRASE_FILE). */
  REDIS_TLS_KEY_PASSPHRASE: Type.String({ default: '' }),
};
