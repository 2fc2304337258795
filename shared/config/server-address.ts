/** The port a client assumes when a URL names none, by scheme. */
const DEFAULT_PORTS: Record<string, number> = {
  'amqp:': 5672,
  'amqps:': 5671,
  'postgres:': 5432,
  'postgresql:': 5432,
  'redis:': 6379,
  // ioredis's default for TLS too: Redis has no separate well-known TLS port.
  'rediss:': 6379,
};

export interface ServerAddress {
  host: string;
  port: number;
  /** `host:port`: what logs and messages name, never the credentials. */
  label: string;
}

/** The host and port a server URL points at (its scheme's default port when it names none). Throws on a malformed URL. */
export function serverAddress(url: string): ServerAddress {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(parsed.port) || DEFAULT_PORTS[parsed.protocol] || 0;
  return { host, port, label: `${host}:${port}` };
}
