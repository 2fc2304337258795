import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { parseAmqpUrls } from './amqp-urls.js';
import { ConfigError } from './load-env.js';

/** The TLS client options handed to amqplib and ioredis: only what was configured. */
export type TlsClientOptions = Pick<tls.ConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase'>;

interface TlsFiles {
  /** The variables' common prefix, e.g. `AMQP_TLS`: errors name `<prefix>_CA_FILE` and so on. */
  prefix: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  keyPassphrase: string;
}

const isSet = (files: TlsFiles) => Boolean(files.caFile || files.certFile || files.keyFile || files.keyPassphrase);

/**
 * Reads the PEM files and checks them together as Node will use them (a certificate without its
 * key, a key that does not match, a wrong passphrase), so that a mistake stops the start with a
 * {@link ConfigError} naming the variable instead of failing on every connection attempt.
 */
function readTlsFiles(files: TlsFiles): TlsClientOptions {
  const read = (suffix: string, file: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${files.prefix}_${suffix}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  if (Boolean(files.certFile) !== Boolean(files.keyFile)) {
    throw new ConfigError(`${files.prefix}_CERT_FILE and ${files.prefix}_KEY_FILE go together: set both for a client certificate, or neither`);
  }
  const ca = read('CA_FILE', files.caFile);
  const cert = read('CERT_FILE', files.certFile);
  const key = read('KEY_FILE', files.keyFile);
  const options: TlsClientOptions = { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}), ...(files.keyPassphrase ? { passphrase: files.keyPassphrase } : {}) };
  try {
    tls.createSecureContext(options);
  } catch (error) {
    const names = [...(ca ? ['CA_FILE'] : []), ...(cert ? ['CERT_FILE', 'KEY_FILE'] : []), ...(files.keyPassphrase ? ['KEY_PASSPHRASE'] : [])];
    throw new ConfigError(`${names.map((name) => `${files.prefix}_${name}`).join(', ')}: not usable for TLS (${(error as Error).message})`);
  }
  return options;
}

/** The settings {@link amqpTlsOptions} reads (`commonEnv`). */
export interface AmqpTlsConfig {
  AMQP_URL: string;
  AMQP_TLS_CA_FILE: string;
  AMQP_TLS_CERT_FILE: string;
  AMQP_TLS_KEY_FILE: string;
  AMQP_TLS_KEY_PASSPHRASE: string;
}

/**
 * The TLS options for the broker connection: read from the AMQP_TLS_* files when every node of
 * AMQP_URL is `amqps://`, none when every node is `amqp://`. A list that mixes the two, or TLS
 * files set beside plain `amqp://` URLs, is refused: either would send credentials and messages
 * in plain text where TLS was meant.
 */
export function amqpTlsOptions(config: AmqpTlsConfig): TlsClientOptions | undefined {
  const files = { prefix: 'AMQP_TLS', caFile: config.AMQP_TLS_CA_FILE, certFile: config.AMQP_TLS_CERT_FILE, keyFile: config.AMQP_TLS_KEY_FILE, keyPassphrase: config.AMQP_TLS_KEY_PASSPHRASE };
  const schemes = new Set(parseAmqpUrls(config.AMQP_URL).map((url) => new URL(url).protocol));
  if (schemes.size > 1) throw new ConfigError('AMQP_URL mixes amqps:// and amqp:// nodes: make them all amqps:// (TLS) or all amqp://');
  if (schemes.has('amqps:')) return readTlsFiles(files);
  if (isSet(files)) throw new ConfigError('AMQP_TLS_* files are set but AMQP_URL is amqp:// (plain text): use amqps:// for TLS');
  return undefined;
}

/** The settings {@link redisTlsOptions} reads. */
export interface RedisTlsConfig {
  REDIS_URL: string;
  REDIS_TLS_CA_FILE: string;
  REDIS_TLS_CERT_FILE: string;
  REDIS_TLS_KEY_FILE: string;
  REDIS_TLS_KEY_PASSPHRASE: string;
}

/**
 * The TLS options for Redis: read from the REDIS_TLS_* files for a `rediss://` URL, none for
 * `redis://`. TLS files set beside a `redis://` URL are refused (plain text where TLS was meant).
 */
export function redisTlsOptions(config: RedisTlsConfig): TlsClientOptions | undefined {
  const files = { prefix: 'REDIS_TLS', caFile: config.REDIS_TLS_CA_FILE, certFile: config.REDIS_TLS_CERT_FILE, keyFile: config.REDIS_TLS_KEY_FILE, keyPassphrase: config.REDIS_TLS_KEY_PASSPHRASE };
  if (/^rediss:\/\//i.test(config.REDIS_URL.trim())) return readTlsFiles(files);
  if (isSet(files)) throw new ConfigError('REDIS_TLS_* files are set but REDIS_URL is redis:// (plain text): use rediss:// for TLS');
  return undefined;
}
