import { createHash, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../../shared/logging/logger.js';
import { isDependencyUnavailable } from './dependency-unavailable.js';
import { ProblemError } from './problem.js';
import { canonicalJson } from '../../../../shared/idempotency/canonical-json.js';

/**
 * Idempotency-Key for POST requests, with the semantics Stripe and the IETF draft
 * (draft-ietf-httpapi-idempotency-key-header) give it, kept in Redis:
 *
 * - same key, same request (method, path and canonical JSON body) → the first response replayed
 *   byte for byte, with `Idempotent-Replayed: true`;
 * - same key, another request → 422 `idempotency_key_reused`;
 * - same key while the first request still runs → 409 `idempotency_key_in_use` (Retry-After);
 * - keys are scoped per customer, kept `ttlSeconds` (24 h) after the response.
 *
 * A request first claims the key with `SET NX` (a "running" record holding a random token and
 * the request's fingerprint, expiring after `lockSeconds` so a crashed instance cannot hold a key
 * for 24 h); the response replaces it only if the token is still ours (compare-and-set in Lua).
 * A request that failed before doing anything (validation, 5xx) releases the key, so a retry runs
 * again; as with Stripe, only responses of requests that ran are stored.
 *
 * Redis holds no data durably here (it may be flushed, or the lock may expire while a request
 * hangs): the orders table keeps the key's hash too, under a unique index, so one key can never
 * create two orders (see place-order.ts).
 *
 * Redis unreachable → fails open, deliberately: the request runs without a Redis record, and the
 * orders table alone keeps one order per key (same key and body → that order, answered with
 * `Idempotent-Replayed: true` and its current state; same key, other body → 422). What is lost
 * for the outage is the byte-for-byte replay and the 409 for a key still running (two concurrent
 * requests both answer 202 with the one order). Taking orders matters more than those two.
 *
 * While admission control refuses new orders (503 overloaded), a request whose key already has a
 * record is still answered from it, with one read and no write (`replayOnly`): a client whose
 * first answer was lost learns of its order even while the backlog is full.
 *
 * Key values are stored and compared only as SHA-256 hashes: like card tokens, they never reach
 * a log line or a Redis key in clear.
 */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Record_ = { state: 'running'; token: string; fingerprint: string } | ({ state: 'done'; fingerprint: string } & StoredResponse);

export const MAX_KEY_LENGTH = 255;

const COMPLETE = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).token == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return nil`;

const RELEASE = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** The Idempotency-Key header, checked: undefined when absent and not `required`. */
export function idempotencyKeyOf(req: Request, required: boolean): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) {
    if (required) throw new ProblemError('idempotency_key_missing', 'this request needs an Idempotency-Key header (1 to 255 characters)');
    return undefined;
  }
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new ProblemError('idempotency_key_invalid', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

export interface IdempotencyOptions {
  redis: Redis;
  /** Redis key prefix (the namespace). */
  prefix: string;
  /** @defaultValue 86 400 (24 h) */
  ttlSeconds?: number;
  /** How long a running request holds its key at most. @defaultValue 60 */
  lockSeconds?: number;
  logger: Logger;
}

export interface RunOptions {
  /**
   * Answer only from the key's record (a replay, or 409/422), never run the request: without a
   * record, this error is thrown. For a request admission control refused (overloaded) whose key
   * may already have placed an order: its client still learns of that order.
   */
  replayOnly?: Error;
}

export class IdempotencyStore {
  private readonly ttlSeconds: number;
  private readonly lockSeconds: number;

  constructor(private readonly options: IdempotencyOptions) {
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
    this.lockSeconds = options.lockSeconds ?? 60;
  }

  /**
   * Runs `execute` at most once per (customer, key, request) and sends its response; replays it to
   * every later request with the same key and body. `execute` gets the request's fingerprint
   * (SHA-256 of method, path and canonical body); throwing releases the key.
   */
  async run(
    req: Request,
    res: Response,
    scope: { customer: string; key: string },
    execute: (requestHash: string) => Promise<StoredResponse>,
    options: RunOptions = {},
  ): Promise<void> {
    const redisKey = this.redisKey(scope.customer, scope.key);
    const fingerprint = sha256(`${req.method} ${req.baseUrl}${req.path} ${canonicalJson(req.body ?? null)}`);
    if (options.replayOnly) return this.replay(res, redisKey, fingerprint, options.replayOnly);
    const token = randomUUID();
    let claimed: Awaited<ReturnType<IdempotencyStore['claim']>>;
    try {
      claimed = await this.claim(redisKey, token, fingerprint);
    } catch (error) {
      if (!isDependencyUnavailable(error)) throw error;
      this.options.logger.warn('idempotency records unavailable; the request runs on the orders table alone', { error });
      return send(res, await execute(fingerprint), false);
    }
    if (claimed !== 'claimed') return send(res, claimed, true);

    let response: StoredResponse;
    try {
      response = await execute(fingerprint);
    } catch (error) {
      await this.options.redis.eval(RELEASE, 1, redisKey, token).catch(() => undefined);
      throw error;
    }
    const done: Record_ = { state: 'done', fingerprint, ...response };
    // Not stored (the claim expired and another request took the key): the response is still sent;
    // the orders table's unique key keeps the two from creating two orders.
    await this.options.redis.eval(COMPLETE, 1, redisKey, token, JSON.stringify(done), String(this.ttlSeconds)).catch(() => undefined);
    send(res, response, false);
  }

  /**
   * For a POST whose Idempotency-Key is optional: {@link run} when the client sent one; without
   * one, executes and sends the response as it is.
   */
  async runIfKeyed(req: Request, res: Response, customer: string, execute: (requestHash: string) => Promise<StoredResponse>): Promise<void> {
    const key = idempotencyKeyOf(req, false);
    if (key === undefined) return send(res, await execute(''), false);
    return this.run(req, res, { customer, key }, execute);
  }

  /**
   * Whether the key has a record (its request still running, or its response stored): one read,
   * nothing written. False when Redis does not answer within `timeoutMs` (or is down), so that a
   * caller on a fast path is never held up by it.
   */
  async hasRecord(customer: string, key: string, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const found = this.options.redis.exists(this.redisKey(customer, key)).then(
      (count) => count > 0,
      () => false,
    );
    try {
      return await Promise.race([found, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private redisKey(customer: string, key: string): string {
    return `${this.options.prefix}idempotency:${sha256(customer)}:${sha256(key)}`;
  }

  /** Answers from the key's record alone, writing nothing; without one (or without Redis), throws `refusal`. */
  private async replay(res: Response, redisKey: string, fingerprint: string, refusal: Error): Promise<void> {
    const raw = await this.options.redis.get(redisKey).catch(() => null);
    if (raw === null) throw refusal;
    send(res, this.answerOf(JSON.parse(raw) as Record_, fingerprint), true);
  }

  /** What an existing record answers to a request with `fingerprint`: its stored response, or a problem. */
  private answerOf(existing: Record_, fingerprint: string): StoredResponse {
    if (existing.fingerprint !== fingerprint) {
      throw new ProblemError('idempotency_key_reused', 'this Idempotency-Key was already used with another request');
    }
    if (existing.state === 'running') {
      throw new ProblemError('idempotency_key_in_use', 'a request with this Idempotency-Key is still being processed; retry later', {}, { 'Retry-After': '1' });
    }
    return { status: existing.status, headers: existing.headers, body: existing.body };
  }

  /** Claims the key, or tells what holds it. Bounded: a record that expires between SET and GET is retried twice. */
  private async claim(redisKey: string, token: string, fingerprint: string): Promise<'claimed' | StoredResponse> {
    const running: Record_ = { state: 'running', token, fingerprint };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const set = await this.options.redis.set(redisKey, JSON.stringify(running), 'EX', this.lockSeconds, 'NX');
      if (set === 'OK') return 'claimed';
      const raw = await this.options.redis.get(redisKey);
      if (raw === null) continue;
      return this.answerOf(JSON.parse(raw) as Record_, fingerprint);
    }
    throw new ProblemError('idempotency_key_in_use', 'this Idempotency-Key is changing hands; retry later', {}, { 'Retry-After': '1' });
  }
}

function send(res: Response, response: StoredResponse, replayed: boolean): void {
  if (res.headersSent) return; // answered 503 request_timeout meanwhile
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.end(response.body);
}
