import pg from 'pg';
import type { Logger } from '../../../shared/logging/logger.js';

/** What a change announces (migration 008): an order by id, or the catalog. */
export type Change = { kind: 'order'; orderId: string } | { kind: 'catalog' };

export interface ChangeFeedOptions {
  connectionString: string;
  /** The schema whose triggers announce (`<schema>.changes`). */
  schema: string;
  logger: Logger;
  /** Longest wait between reconnects. @defaultValue 5 000 */
  maxReconnectDelayMs?: number;
}

/** Told of every change, and of `resync` whenever changes may go or have gone unheard. */
export interface ChangeListener {
  changed(change: Change): void;
  /**
   * The feed lost its connection, or has it back after losing it: anything may have changed
   * unheard. Read again; while {@link ChangeFeed.connected} is false, expect no announcement.
   */
  resync(): void;
}

const FIRST_RECONNECT_DELAY_MS = 250;

/**
 * The changes Postgres announces on `<schema>.changes` (migration 008's triggers, sent when the
 * changing transaction commits), on one connection of its own that LISTENs, whichever instance
 * made them. A lost connection is opened again with a growing delay (at most
 * `maxReconnectDelayMs`) for as long as the service runs; while it is down {@link connected} is
 * false, and once it is back every listener is told to `resync`, since changes sent meanwhile are
 * lost (NOTIFY keeps nothing for a listener that is away).
 *
 * Our own rather than a package: pg-listen, the usual one, is not in the registry this project
 * installs from, and what is needed is a client, a LISTEN and a reconnect loop.
 */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private readonly channel: string;
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = FIRST_RECONNECT_DELAY_MS;
  private stopped = false;

  constructor(private readonly options: ChangeFeedOptions) {
    this.channel = `${options.schema}.changes`;
  }

  /** Listening now: every change committed from now on is heard. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  listen(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects and listens; a first connection that fails throws (the service does not start). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.channel });
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload) this.dispatch(message.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelayMs = FIRST_RECONNECT_DELAY_MS;
  }

  private dispatch(payload: string): void {
    const change: Change | undefined = payload === 'catalog' ? { kind: 'catalog' } : payload.startsWith('order:') ? { kind: 'order', orderId: payload.slice(6) } : undefined;
    if (!change) return;
    for (const listener of this.listeners) listener.changed(change);
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.options.logger.warn('change feed lost its connection; cached reads are bypassed until it is back', { error });
    for (const listener of this.listeners) listener.resync();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, this.options.maxReconnectDelayMs ?? 5_000);
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.stopped || !this.client) return;
          this.options.logger.info('change feed listening again');
          for (const listener of this.listeners) listener.resync();
        },
        (error: unknown) => {
          if (this.stopped) return;
          this.options.logger.warn('change feed could not reconnect; trying again', { error, retry_in_ms: this.reconnectDelayMs });
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }
}
