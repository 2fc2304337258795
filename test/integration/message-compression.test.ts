import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningOrderService } from '../../services/order-service/app.js';
import { parseAmqpUrls } from '../../shared/config/amqp-urls.js';
import { newEvent, type SagaEvent } from '../../shared/contracts/events.js';
import { decodeEvent } from '../../shared/messaging/message-decoder.js';
import type { MetricsRegistry } from '../../shared/observability/metrics.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import type { RunningParticipant } from '../../shared/startup/start-participant.js';
import { ADDRESS, OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { authHeader } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Event bodies above MESSAGE_COMPRESS_BYTES travel gzip'd (content_encoding gzip): with a threshold
 * below the size of every saga event, each one an order produces is compressed, so an order that
 * completes has had every service decode gzip'd events. Uncompressed events are still read, corrupt
 * gzip is dead-lettered, the archive keeps compressed letters readable and replayable, and a Python
 * consumer (pika) reads the same messages.
 */
const COMPRESS_BYTES = 200;
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PYTHON = '/usr/bin/python3';
const CONSUMER = repoPath('test/fixtures/python/consume_events.py');
const FORWARD_EVENTS = ['inventory.reserved', 'order.created', 'payment.succeeded', 'shipping.scheduled'];
const GZIP_MAGIC = [0x1f, 0x8b];

let stack: TestStack;
let api: OrderApi;
/** The test's own queue, bound to every event on the saga exchange: what travelled on the wire. */
let tap: string;

describe.skipIf(EXTERNAL_STACK)('message compression (MESSAGE_COMPRESS_BYTES)', () => {
  beforeAll(async () => {
    stack = await TestStack.start({ MESSAGE_COMPRESS_BYTES: String(COMPRESS_BYTES) });
    api = new OrderApi(stack);
    tap = `${stack.namespace}compression-tap`;
    // x-expires: gone by itself should the test die before its afterAll.
    await stack.broker.declareQueue(tap, { 'x-expires': 600_000 });
    await stack.broker.bind(tap, '#');
  });

  afterAll(async () => {
    await stack?.broker.deleteQueue(tap).catch(() => undefined);
    await stack?.stop();
  });

  it('when an order is placed, then it completes, and every event of it travelled gzip\'d and decodes to a valid envelope', async () => {
    const placed = await api.place();
    expect((await api.settled(placed.id)).status).toBe('completed');

    const wire = await tapped(placed.id, FORWARD_EVENTS.length);
    expect(wire.map(({ message }) => message.properties.type).sort()).toEqual(FORWARD_EVENTS);
    for (const { message, event } of wire) {
      expect(message.properties).toMatchObject({ contentType: 'application/json', contentEncoding: 'gzip', messageId: event.id, type: event.type });
      expect([...message.content.subarray(0, 2)]).toEqual(GZIP_MAGIC);
      expect(event.correlation_id).toBe(placed.id);
    }

    // Counted on both sides: published smaller than its JSON, and received as such.
    const orderService = (stack.service('order-service') as RunningOrderService).runtime.metrics;
    const sentJson = await bytes(orderService, 'messaging_message_body_bytes_total', { messaging_operation_type: 'send', encoding: 'gzip' });
    const sentWire = await bytes(orderService, 'messaging_message_wire_bytes_total', { messaging_operation_type: 'send', encoding: 'gzip' });
    expect(sentWire).toBeGreaterThan(0);
    expect(sentWire).toBeLessThan(sentJson);
    expect(await bytes(orderService, 'messaging_message_wire_bytes_total', { messaging_operation_type: 'send', encoding: 'identity' })).toBe(0);
    const orderCreated = wire.find(({ event }) => event.type === 'order.created')!;
    const inventory = (stack.service('inventory-service') as RunningParticipant).runtime.metrics;
    const received = { messaging_operation_type: 'receive', encoding: 'gzip' };
    expect(await bytes(inventory, 'messaging_message_wire_bytes_total', received)).toBe(orderCreated.message.content.length);
    expect(await bytes(inventory, 'messaging_message_body_bytes_total', received)).toBe(Buffer.byteLength(JSON.stringify(orderCreated.event)));
  });

  it('when a Python consumer (pika) reads an order\'s events, then it gunzips and decodes each, as the services did', async () => {
    await requirePika();
    const consumer = startPythonConsumer(FORWARD_EVENTS.length);
    let lines: Record<string, unknown>[];
    let placed: { id: string };
    try {
      await consumer.ready;
      placed = await api.place(orderBody({ items: [{ sku: 'STICKER-PACK', quantity: 1 }] }));
      expect((await api.settled(placed.id)).status).toBe('completed');
      lines = await consumer.done;
    } finally {
      consumer.stop();
    }
    expect(lines.at(-1)).toEqual({ done: FORWARD_EVENTS.length });
    const read = lines.slice(0, -1);
    expect(read.filter((line) => 'error' in line)).toEqual([]);
    expect(read.every((line) => line.correlation_id === placed.id && line.content_encoding === 'gzip')).toBe(true);
    expect(read.every((line) => (line.wire_bytes as number) < (line.json_bytes as number))).toBe(true);
    // The very events the services exchanged, by id, as this test's own queue received them.
    const wire = await tapped(placed.id, FORWARD_EVENTS.length);
    const byType = (events: { type: unknown; id: unknown }[]) => events.map(({ type, id }) => `${String(type)} ${String(id)}`).sort();
    expect(byType(read as { type: unknown; id: unknown }[])).toEqual(byType(wire.map(({ event }) => event)));
    expect(read.every((line) => line.message_id === line.id)).toBe(true);
  }, 60_000);

  it('when an event comes uncompressed (content_encoding utf-8), then every service still applies it', async () => {
    const orderId = randomUUID();
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await stack.broker.publish('order.cancel_requested', cancel, { messageId: cancel.id, type: cancel.type, contentEncoding: 'utf-8' });
    for (const service of ['inventory-service', 'payment-service', 'shipping-service'] as const) {
      await waitFor(() => stack.handled(service, cancel.id), { what: `${service} to apply the uncompressed event` });
    }
    const inventory = (stack.service('inventory-service') as RunningParticipant).runtime.metrics;
    const identity = { messaging_operation_type: 'receive', encoding: 'identity' };
    const json = Buffer.byteLength(JSON.stringify(cancel));
    expect(await bytes(inventory, 'messaging_message_wire_bytes_total', identity)).toBe(json);
    expect(await bytes(inventory, 'messaging_message_body_bytes_total', identity)).toBe(json);
  });

  it('when a body says gzip but does not inflate, or comes in an unknown encoding, then it is dead-lettered as unparseable, saying why', async () => {
    const corrupt = Buffer.concat([Buffer.from(GZIP_MAGIC), Buffer.from([0x08, 0x00]), Buffer.from('not really deflate data')]);
    const corruptId = `corrupt-gzip-${randomUUID()}`;
    const brotliId = `brotli-${randomUUID()}`;
    await stack.broker.publish('order.cancel_requested', corrupt, { messageId: corruptId, type: 'order.cancel_requested', contentEncoding: 'gzip' });
    await stack.broker.publish('order.cancel_requested', '{}', { messageId: brotliId, type: 'order.cancel_requested', contentEncoding: 'br' });

    const letters = await waitFor(
      async () => {
        const found = (await deadLetters('?reason=unparseable')).filter((letter) => [corruptId, brotliId].includes(letter.message_id ?? ''));
        return found.length === 6 ? found : undefined;
      },
      { what: 'both messages dead-lettered by inventory, payment and shipping' },
    );
    const corruptLetters = letters.filter((letter) => letter.message_id === corruptId);
    expect(corruptLetters.map((letter) => letter.service).sort()).toEqual(['inventory-service', 'payment-service', 'shipping-service']);
    for (const letter of corruptLetters) {
      expect(letter.error).toMatch(/^content_encoding is gzip but the body could not be gunzipped: /);
      // Archived as it came, to be replayed as it came.
      expect(Buffer.from(letter.body_base64 ?? '', 'base64')).toEqual(corrupt);
    }
    for (const letter of letters.filter((letter) => letter.message_id === brotliId)) {
      expect(letter.error).toBe('unsupported content_encoding "br" (utf-8 or gzip expected)');
    }
    const { rows } = await stack.db.query(`SELECT DISTINCT properties->>'contentEncoding' AS encoding FROM ${stack.table('dead-letters', 'dead_letters')} WHERE message_id = $1`, [corruptId]);
    expect(rows).toEqual([{ encoding: 'gzip' }]);
  });

  it('when gzip\'d dead letters are archived, then they are kept as their JSON: shown masked, found by order, and a replay is applied', async () => {
    const deadLettered = () => ({ 'x-dead-letter-reason': 'retries_exhausted', 'x-dead-letter-error': 'database was down', 'x-dead-lettered-at': new Date().toISOString() });
    // One with a secret (payment_source), to see it masked; one to replay.
    const createdId = randomUUID();
    const created = newEvent(
      'order.created',
      {
        order_id: createdId,
        customer_id: 'cus_gzip',
        items: [{ sku: 'MUG-LOGO', quantity: 1, unit_price: '9.50' }],
        total: '9.50',
        currency: 'USD',
        payment_source: 'tok_visa',
        shipping_address: ADDRESS,
      },
      { correlationId: createdId },
    );
    const cancelId = randomUUID();
    const cancel = newEvent('order.cancel_requested', { order_id: cancelId, reason: 'customer_request' }, { correlationId: cancelId });
    for (const [service, event] of [['inventory-service', created], ['shipping-service', cancel]] as const) {
      await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue(service), gzipSync(JSON.stringify(event)), {
        messageId: event.id,
        type: event.type,
        contentEncoding: 'gzip',
        headers: deadLettered(),
      });
    }
    const letterOf = (event: SagaEvent) =>
      waitFor(async () => (await deadLetters('?reason=retries_exhausted')).find((letter) => letter.message_id === event.id), { what: `${event.type} archived` });

    const createdLetter = await letterOf(created);
    expect(JSON.parse(createdLetter.body!)).toEqual({ ...created, data: { ...created.data, payment_source: '[REDACTED]' } });
    const { rows } = await stack.db.query(`SELECT order_id, properties FROM ${stack.table('dead-letters', 'dead_letters')} WHERE id = $1`, [createdLetter.id]);
    expect(rows[0]).toMatchObject({ order_id: createdId, properties: { contentEncoding: 'utf-8', receivedContentEncoding: 'gzip' } });
    const purged = await fetch(`${stack.orderApi}/admin/dead-letters/${createdLetter.id}`, { method: 'DELETE', headers: await authHeader('admin') });
    expect(purged.status).toBe(204);

    const cancelLetter = await letterOf(cancel);
    expect(await stack.handled('shipping-service', cancel.id)).toBe(false);
    const replay = await fetch(`${stack.orderApi}/admin/dead-letters/${cancelLetter.id}/replay`, { method: 'POST', headers: await authHeader('admin') });
    expect(replay.status).toBe(202);
    await waitFor(() => stack.handled('shipping-service', cancel.id), { what: 'the replayed letter to be applied' });
  });
});

interface LetterView {
  id: string;
  service: string;
  reason: string;
  error: string | null;
  message_id: string | null;
  body: string | null;
  body_base64: string | null;
}

async function deadLetters(query: string): Promise<LetterView[]> {
  const response = await fetch(`${stack.orderApi}/admin/dead-letters${query}`, { headers: await authHeader('admin') });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: LetterView[] }).data;
}

/**
 * Takes what the tap queue holds and returns the messages of one order, each with its decoded
 * event; waits (bounded) until `count` of them are there (the last publish's copy may lag the API).
 */
async function tapped(orderId: string, count: number): Promise<{ message: GetMessage; event: SagaEvent }[]> {
  const kept: { message: GetMessage; event: SagaEvent }[] = [];
  return waitFor(
    async () => {
      for (const message of await stack.broker.drain(tap)) {
        const decoded = decodeEvent(message.content, message.properties.contentEncoding);
        if (!decoded.ok) throw new Error(`a tapped message did not decode: ${decoded.reason}: ${decoded.detail}`);
        if (decoded.event.correlation_id === orderId) kept.push({ message, event: decoded.event });
      }
      return kept.length >= count ? kept : undefined;
    },
    { what: `${count} events of order ${orderId} on the tap queue` },
  );
}

/** The sum of a counter's series whose labels include `labels`; 0 when there is none. */
async function bytes(registry: MetricsRegistry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

let pikaChecked: Promise<void> | undefined;
/** Fails (clearly) when Debian's python3 lacks pika. */
function requirePika(): Promise<void> {
  pikaChecked ??= promisify(execFile)(PYTHON, ['-c', 'import pika'], { timeout: 20_000 }).then(
    () => undefined,
    (error: unknown) => {
      throw new Error(`${PYTHON} cannot import pika; install it with: apt-get install -y python3-pika\n(${(error as Error).message})`);
    },
  );
  return pikaChecked;
}

/**
 * Runs consume_events.py on this stack's namespace for `count` messages: `ready` once its queue is
 * bound, `done` with every JSON line it printed after that once it exited by itself (killed after
 * 50 s at most, or by `stop`, when `done` rejects).
 */
function startPythonConsumer(count: number): { ready: Promise<void>; done: Promise<Record<string, unknown>[]>; stop: () => void } {
  const url = parseAmqpUrls(AMQP_URL)[0]!;
  const args = [CONSUMER, '--url', url, '--namespace', stack.namespace, '--queue', 'python-consumer', '--count', String(count), '--timeout', '40'];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 50_000 });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: Record<string, unknown>[] = [];
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if ('ready' in parsed) markReady();
    else lines.push(parsed);
  });
  const done = new Promise<Record<string, unknown>[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(lines);
      else reject(new Error(`consume_events.py exited with ${code ?? signal}; stderr:\n${stderr}`));
    });
  });
  // Whichever comes first: the queue bound, or the script gone (its error then surfaces here).
  return {
    ready: Promise.race([ready, done.then(() => Promise.reject(new Error(`consume_events.py exited before binding its queue; stderr:\n${stderr}`)))]),
    done,
    // After a failure part way: the script would otherwise wait out its own timeout.
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}
