import type { SharedBus } from '../core/ports/shared.ts';
import type { PgPool, PgPoolClient } from './postgres-adapter.ts';
import type { RedisClient } from './redis-client.ts';

type Listener = { onMessage: (message: string) => void; onResync: () => void };

/** Subscribers of one bus, told of each message and of each reconnect. */
class Listeners {
  private readonly set = new Set<Listener>();

  add(l: Listener): () => void {
    this.set.add(l);
    return () => void this.set.delete(l);
  }
  get size(): number {
    return this.set.size;
  }
  message(m: string): void {
    for (const l of this.set) l.onMessage(m);
  }
  resync(): void {
    for (const l of this.set) l.onResync();
  }
}

/**
 * SQLite and memory stores: messages reach this process's subscribers only. (Other processes on
 * one SQLite file learn of changes when they next read the log.)
 */
export class LocalSharedBus implements SharedBus {
  readonly crossProcess = false;
  private readonly listeners = new Listeners();

  async publish(message: string): Promise<void> {
    queueMicrotask(() => this.listeners.message(message));
  }

  subscribe(onMessage: (message: string) => void, onResync: () => void): () => void {
    return this.listeners.add({ onMessage, onResync });
  }
}

/**
 * Redis pub/sub on one channel per namespace: PUBLISH on the store's own client, SUBSCRIBE on a
 * second connection of its own (a subscribed connection can do nothing else), opened on first
 * use. After that connection comes back from a drop, subscribers read the log again.
 */
export class RedisSharedBus implements SharedBus {
  readonly crossProcess = true;
  private readonly listeners = new Listeners();
  private subscriber?: Promise<RedisClient>;

  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  async publish(message: string): Promise<void> {
    await this.client.publish(this.channel, message);
  }

  subscribe(onMessage: (message: string) => void, onResync: () => void): () => void {
    const off = this.listeners.add({ onMessage, onResync });
    this.subscriber ??= this.connect();
    this.subscriber.catch(() => (this.subscriber = undefined));
    return off;
  }

  private async connect(): Promise<RedisClient> {
    const sub = this.client.duplicate();
    sub.on('error', this.onError);
    let first = true;
    sub.on('ready', () => {
      if (!first) this.listeners.resync(); // reconnected: messages may have been missed
      first = false;
    });
    await sub.connect();
    await sub.subscribe(this.channel, (message: string) => this.listeners.message(message));
    return sub as RedisClient;
  }

  async close(): Promise<void> {
    const sub = await this.subscriber?.catch(() => undefined);
    this.subscriber = undefined;
    if (sub?.isOpen) await sub.close();
  }
}

/** NOTIFY payloads must stay below 8,000 bytes. */
export const PG_NOTIFY_MAX = 7900;

/**
 * PostgreSQL LISTEN/NOTIFY: NOTIFY through the pool, LISTEN on a connection of its own, taken
 * from the pool on first use and replaced (with a read of the log) if it drops.
 */
export class PgSharedBus implements SharedBus {
  readonly crossProcess = true;
  private readonly listeners = new Listeners();
  private listener?: Promise<PgPoolClient>;
  private closed = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly pool: PgPool,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  async publish(message: string): Promise<void> {
    if (Buffer.byteLength(message) > PG_NOTIFY_MAX) throw new Error('message too long for NOTIFY');
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, message]);
  }

  subscribe(onMessage: (message: string) => void, onResync: () => void): () => void {
    const off = this.listeners.add({ onMessage, onResync });
    this.listener ??= this.listen(false);
    return off;
  }

  private listen(again: boolean): Promise<PgPoolClient> {
    const p = (async () => {
      const client = await this.pool.connect();
      client.on('notification', (msg) => {
        if (msg.channel === this.channel && msg.payload !== undefined) this.listeners.message(msg.payload);
      });
      const lost = (err?: Error) => {
        if (this.closed || this.listener !== p) return;
        if (err) this.onError(err);
        client.release(true);
        this.reconnectSoon();
      };
      client.on('error', lost);
      client.on('end', () => lost());
      await client.query(`LISTEN "${this.channel}"`);
      if (again) this.listeners.resync();
      return client;
    })();
    p.catch((err: unknown) => {
      if (this.closed) return;
      this.onError(err);
      this.reconnectSoon();
    });
    return p;
  }

  private reconnectSoon(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listener = this.listen(true);
    }, 1000);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = await this.listener?.catch(() => undefined);
    this.listener = undefined;
    client?.release(true);
  }
}
