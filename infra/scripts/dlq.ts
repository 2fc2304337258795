/**
 * Dead-letter tooling: `npm run dlq -- <command> [options]`
 *
 *   list    [--service S] [--type T] [--reason R] [--older-than SECONDS] [--limit N] [--json]
 *   show    <id>
 *   replay  <id...> | --all [filters]     send back to the queue it came from: its service's step or
 *                                         compensation lane (recorded)
 *   purge   <id...> | --all [filters]     hide from the archive (kept for audit)
 *
 * Reads NAMESPACE, DATABASE_URL, AMQP_URL and the AMQP_TLS_* files like the services do (AMQP_URL:
 * one broker, or a cluster's nodes as a comma-separated list; any live node is used).
 */
import { parseArgs } from 'node:util';
import { Type } from '@sinclair/typebox';
import { amqpTlsEnv, amqpTlsOptions, commonEnv, loadEnv } from '../../shared/config/index.js';
import { openDeadLetterStore } from '../../shared/dead-letters/open-dead-letter-store.js';
import type { DeadLetter, DeadLetterFilter } from '../../shared/dead-letters/dead-letter-store.js';
import { replayDeadLetter } from '../../shared/dead-letters/replay-dead-letter.js';
import { createLogger } from '../../shared/logging/logger.js';
import { connectAmqp } from '../../shared/messaging/amqp-connection.js';
import { EventPublisher } from '../../shared/messaging/event-publisher.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';
import { deadLetterView } from '../../services/order-service/entry-points/http/dead-letters-router.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    service: { type: 'string' },
    type: { type: 'string' },
    reason: { type: 'string' },
    'older-than': { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const [command, ...ids] = positionals;
const env = process.env;
const config = loadEnv(Type.Object({ NAMESPACE: commonEnv.NAMESPACE, DATABASE_URL: commonEnv.DATABASE_URL, AMQP_URL: commonEnv.AMQP_URL, ...amqpTlsEnv }), env);
const namespace = config.NAMESPACE;
const logger = createLogger({ service: 'dlq-cli', level: 'warn' });
const { store, pool } = await openDeadLetterStore({
  connectionString: config.DATABASE_URL,
  namespace,
  logger,
});

const filter: DeadLetterFilter = {
  ...(values.service ? { service: values.service } : {}),
  ...(values.type ? { eventType: values.type } : {}),
  ...(values.reason ? { reason: values.reason } : {}),
  ...(values['older-than'] ? { olderThanMs: Number(values['older-than']) * 1000 } : {}),
  limit: Number(values.limit ?? 1000) || 1000,
};

/** The letters a replay or purge acts on: the ids given, or every letter matching the filters with --all. */
async function selected(): Promise<DeadLetter[]> {
  if (values.all) return store.list(filter);
  if (ids.length === 0) throw new Error(`${command} needs ids, or --all with filters`);
  const letters = await Promise.all(ids.map((id) => store.get(id)));
  const missing = ids.filter((_, i) => !letters[i]);
  if (missing.length) throw new Error(`unknown dead letters: ${missing.join(', ')}`);
  return letters as DeadLetter[];
}

let exitCode = 0;
try {
  switch (command) {
    case 'list': {
      const letters = await store.list(filter);
      if (values.json) console.log(JSON.stringify(letters.map(deadLetterView), null, 2));
      else {
        for (const l of letters) {
          console.log(`${l.id}  ${l.dead_lettered_at.toISOString()}  ${l.service}  ${l.event_type ?? '-'}  ${l.reason}  replays=${l.replay_count}  ${l.error ?? ''}`);
        }
        console.log(`${letters.length} dead letter(s)`);
      }
      break;
    }
    case 'show': {
      const letter = ids[0] ? await store.get(ids[0]) : null;
      if (!letter) throw new Error(`unknown dead letter ${ids[0] ?? '(none given)'}`);
      console.log(JSON.stringify({ ...deadLetterView(letter), properties: letter.properties }, null, 2));
      break;
    }
    case 'replay': {
      const letters = await selected();
      const connection = await connectAmqp({ url: config.AMQP_URL, name: 'dlq-cli', logger, tls: amqpTlsOptions(config) });
      const publisher = new EventPublisher({ connection, names: topologyNames(namespace), logger });
      try {
        for (const letter of letters) await replayDeadLetter({ store, publisher, names: topologyNames(namespace) }, letter, `cli:${env.USER ?? 'unknown'}`);
      } finally {
        await publisher.close();
        await connection.close();
      }
      console.log(`replayed ${letters.length} dead letter(s)`);
      break;
    }
    case 'purge': {
      const letters = await selected();
      console.log(`purged ${(await store.purge(letters.map((l) => l.id), `cli:${env.USER ?? 'unknown'}`)).length} dead letter(s)`);
      break;
    }
    default:
      console.error('usage: npm run dlq -- list|show|replay|purge [ids] [--service S] [--type T] [--reason R] [--older-than SECONDS] [--all] [--json]');
      exitCode = 2;
  }
} catch (error) {
  console.error(`dlq: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await pool.end();
}
process.exit(exitCode);
