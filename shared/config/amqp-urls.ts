import { ConfigError } from './load-env.js';
import { serverAddress } from './server-address.js';

/**
 * What `AMQP_URL` accepts: one `amqp://` or `amqps://` URL, or a comma-separated list of them, one
 * per node of a RabbitMQ cluster. A comma inside a password must be percent-encoded (`%2C`).
 */
export const AMQP_URL_PATTERN = '^\\s*amqps?://[^\\s,]+(\\s*,\\s*amqps?://[^\\s,]+)*\\s*$';

/**
 * A comma splits the list only where another URL starts (`…,amqp://…`), so a comma inside one URL
 * (libpq's `postgres://h1:5432,h2:5432/db`) stays where it is.
 */
const LIST_SEPARATOR = /\s*,\s*(?=[a-z][a-z0-9+.-]*:\/\/)/i;

const AMQP_SCHEMES = new Set(['amqp:', 'amqps:']);

/** The URLs of a comma-separated list, trimmed; one URL gives a list of one. */
export function splitUrlList(value: string): string[] {
  return value
    .split(LIST_SEPARATOR)
    .map((url) => url.trim())
    .filter((url) => url !== '');
}

/**
 * The broker nodes of an `AMQP_URL` value (a list, or one URL), each checked to be an amqp(s) URL
 * with a host. Throws a {@link ConfigError} naming the position of a bad entry, never its text (it
 * may hold a password).
 */
export function parseAmqpUrls(value: string | readonly string[]): string[] {
  const urls = typeof value === 'string' ? splitUrlList(value) : value.map((url) => url.trim());
  if (urls.length === 0) throw new ConfigError('AMQP_URL: no broker URL given');
  urls.forEach((url, i) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !AMQP_SCHEMES.has(parsed.protocol) || parsed.hostname === '') {
      throw new ConfigError(`AMQP_URL: entry ${i + 1} of ${urls.length} is not an amqp:// or amqps:// URL with a host`);
    }
  });
  return urls;
}

/** `host:port` of a broker URL, for logs and messages: never the credentials. */
export function amqpNodeLabel(url: string): string {
  try {
    return serverAddress(url).label;
  } catch {
    return '(unparseable URL)';
  }
}
