import type { StorePrimitives } from './primitives.ts';
import type { RedisClient } from './redis-client.ts';

// GET and SET in one script: Redis runs a script without interleaving other commands.
const RAISE_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if n > cur then redis.call('SET', KEYS[1], ARGV[1]) return n end
return cur`;

// INCRBY creates an absent (or expired, hence gone) key from 0 without a TTL; only then does it get
// one, so later adds never move the window's end. One script, so no other client sees the key TTL-less.
const ADD_WINDOWED_SCRIPT = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total`;

const CAS_INCR_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur == tonumber(ARGV[1]) then return redis.call('INCR', KEYS[1]) end
return -1`;

// Only the lease's holder (its token) may extend or end it.
const RENEW_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Primitives on the same client the @keyv/redis adapter uses: INCR, a max script, SET NX PX, an INCRBY+PEXPIRE script. */
export class RedisPrimitives implements StorePrimitives {
  constructor(private readonly client: RedisClient) {}

  async incr(key: string): Promise<number> {
    return this.client.incr(key);
  }

  async raise(key: string, n: number): Promise<number> {
    const r = await this.client.eval(RAISE_SCRIPT, { keys: [key], arguments: [String(Math.trunc(n))] });
    return Number(r);
  }

  async casIncr(key: string, expected: number): Promise<number | undefined> {
    const r = Number(
      await this.client.eval(CAS_INCR_SCRIPT, { keys: [key], arguments: [String(Math.trunc(expected))] }),
    );
    return r < 0 ? undefined : r;
  }

  async lease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const r = await this.client.set(key, token, {
      condition: 'NX',
      expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
    });
    return r === 'OK';
  }

  async renewLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const r = await this.client.eval(RENEW_LEASE_SCRIPT, {
      keys: [key],
      arguments: [token, String(Math.max(1, Math.ceil(ttlMs)))],
    });
    return Number(r) === 1;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.client.eval(RELEASE_LEASE_SCRIPT, { keys: [key], arguments: [token] });
  }

  async read(keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const values = await this.client.mGet(keys);
    return values.map((v) => (v === null ? 0 : Number(v)));
  }

  async addWindowed(key: string, n: number, ttlMs: number): Promise<number> {
    const r = await this.client.eval(ADD_WINDOWED_SCRIPT, {
      keys: [key],
      arguments: [String(Math.trunc(n)), String(Math.max(1, Math.ceil(ttlMs)))],
    });
    return Number(r);
  }

  async readWindowed(keys: string[]): Promise<number[]> {
    // Redis drops an expired key on access, so MGET already answers null for it.
    return this.read(keys);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const r = await this.client.set(key, '1', {
      condition: 'NX',
      expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
    });
    return r === 'OK';
  }

  async deletePrefix(prefix: string): Promise<void> {
    // SCAN is fine here: this is tear-down, never a request path. The namespace holds no glob characters.
    for await (const keys of this.client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await this.client.unlink(keys);
    }
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}
