import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from '../core/ports/index.ts';
import { redactUrl } from '../redact-url.ts';
import { checkNamespace } from './keys.ts';
import { KeyvAppStore } from './keyv-app-store.ts';
import { MemoryPrimitives } from './memory-primitives.ts';
import { openPgPool, PooledKeyvPostgres } from './postgres-adapter.ts';
import type { StorePrimitives } from './primitives.ts';
import { openRedisClient } from './redis-client.ts';
import { RedisPrimitives } from './redis-primitives.ts';
import { LocalSharedBus, PgSharedBus, RedisSharedBus } from './shared-bus.ts';
import type { SharedBus } from '../core/ports/shared.ts';
import { postgresDialect, SqlPrimitives, sqliteDialect } from './sql-primitives.ts';

export const DEFAULT_NAMESPACE = 'vibe';

export interface OpenAppStoreOptions {
  /** Prefix of every key; tests use a fresh one per run. Default "vibe". */
  namespace?: string;
  logger?: Pick<Logger, 'warn'>;
}

interface Backend {
  adapter: KeyvStoreAdapter | Map<string, unknown>;
  primitives: StorePrimitives;
  /** Shared state's messages between bot processes (see SharedBus). */
  bus: (namespace: string) => SharedBus & { close?(): Promise<void> };
}

/**
 * Opens the store `storeUrl` names: sqlite://path (default, file created with its folder),
 * redis://…, postgres://… or postgresql://…, memory://. Connects before returning, so a wrong
 * URL or a down server fails at startup, not on the first message.
 */
export async function openAppStore(storeUrl: string, opts: OpenAppStoreOptions = {}): Promise<KeyvAppStore> {
  const namespace = checkNamespace(opts.namespace ?? DEFAULT_NAMESPACE); // before connecting: nothing to leak
  const onError = (error: unknown) =>
    opts.logger?.warn({ err: error, store: redactUrl(storeUrl) }, 'store connection error');
  const backend = await openBackend(storeUrl, onError);
  // Keys arrive namespaced (StoreKeys), so Keyv's own prefixing is off; errors must reach the caller.
  const keyv = new Keyv({ store: backend.adapter, namespace: undefined, useKeyPrefix: false, throwOnErrors: true });
  keyv.on('error', onError);
  return new KeyvAppStore({ keyv, primitives: backend.primitives, namespace, bus: backend.bus(namespace) });
}

async function openBackend(storeUrl: string, onError: (error: unknown) => void): Promise<Backend> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(storeUrl)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory': {
      const map = new Map<string, unknown>();
      return { adapter: map, primitives: new MemoryPrimitives(map), bus: () => new LocalSharedBus() };
    }
    case 'sqlite':
      return openSqlite(storeUrl, onError);
    case 'redis':
    case 'rediss':
      return openRedis(storeUrl, onError);
    case 'postgres':
    case 'postgresql':
      return openPostgres(storeUrl, onError);
    default:
      throw new Error(
        `unsupported store URL "${redactUrl(storeUrl)}": use sqlite://path, redis://…, postgres://… or memory://`,
      );
  }
}

async function openSqlite(storeUrl: string, onError: (error: unknown) => void): Promise<Backend> {
  const file = storeUrl.replace(/^sqlite:\/\//i, '');
  if (file === '') throw new Error('sqlite store URL needs a file path, e.g. sqlite://./data/vibe.sqlite');
  if (file !== ':memory:') await mkdir(dirname(file), { recursive: true });
  // busyTimeout: a second process (or store) on the same file waits for the write lock instead of failing.
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 10_000 });
  adapter.on('error', onError); // open failures arrive as an event too; the awaited queries below also throw
  const run = (sql: string, params: unknown[]) => adapter.query(sql, ...params) as Promise<Record<string, unknown>[]>;
  const primitives = new SqlPrimitives(run, sqliteDialect, () => adapter.disconnect());
  try {
    await run('PRAGMA journal_mode = WAL', []); // readers do not block the writer
    await run('PRAGMA synchronous = NORMAL', []);
    await primitives.init();
  } catch (error) {
    await adapter.disconnect().catch(() => undefined);
    throw error;
  }
  return { adapter, primitives, bus: () => new LocalSharedBus() };
}

async function openRedis(storeUrl: string, onError: (error: unknown) => void): Promise<Backend> {
  const client = await openRedisClient(storeUrl, onError);
  // The cast only bridges @redis/client's generic parameters (RESP 2 vs the adapter's RESP 2|3 union).
  const adapter = new KeyvRedis(client as unknown as ConstructorParameters<typeof KeyvRedis>[0], {
    throwOnErrors: true,
    throwOnConnectError: true,
  });
  adapter.on('error', onError);
  return {
    adapter,
    primitives: new RedisPrimitives(client),
    bus: (namespace) => new RedisSharedBus(client, `${namespace}:shared`, onError),
  };
}

async function openPostgres(storeUrl: string, onError: (error: unknown) => void): Promise<Backend> {
  const pool = await openPgPool(storeUrl, onError);
  const run = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rows;
  try {
    await run('SELECT 1', []); // fail here, before the adapter starts its own table creation
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const adapter = new PooledKeyvPostgres(storeUrl, pool);
  adapter.on('error', onError); // the adapter reports its CREATE TABLE failure as an event
  const primitives = new SqlPrimitives(run, postgresDialect, () => adapter.disconnect());
  try {
    // The adapter does not expose its CREATE TABLE promise; run it here so the first get cannot race it.
    await run(`CREATE TABLE IF NOT EXISTS keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)`, []).catch(
      (error: { code?: string }) => {
        if (error.code !== '23505' && error.code !== '42P07') throw error;
      },
    );
    await primitives.init();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return { adapter, primitives, bus: (namespace) => new PgSharedBus(pool, `${namespace}_shared`, onError) };
}
