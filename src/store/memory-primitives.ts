import type { StorePrimitives } from './primitives.ts';

/**
 * In-process primitives for `memory://`. JavaScript runs one callback at a time, so a synchronous
 * read-then-write here is atomic. `entries` is the Map the Keyv instance stores into.
 */
export class MemoryPrimitives implements StorePrimitives {
  private readonly counters = new Map<string, number>();
  private readonly claims = new Map<string, number>(); // key -> expiry (epoch ms)
  private readonly windows = new Map<string, { n: number; expires: number }>();
  private readonly leases = new Map<string, { token: string; expires: number }>();

  constructor(
    private readonly entries: Map<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  async incr(key: string): Promise<number> {
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return n;
  }

  async raise(key: string, n: number): Promise<number> {
    const next = Math.max(this.counters.get(key) ?? 0, n);
    this.counters.set(key, next);
    return next;
  }

  async casIncr(key: string, expected: number): Promise<number | undefined> {
    if ((this.counters.get(key) ?? 0) !== expected) return undefined;
    this.counters.set(key, expected + 1);
    return expected + 1;
  }

  async read(keys: string[]): Promise<number[]> {
    return keys.map((k) => this.counters.get(k) ?? 0);
  }

  async lease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const held = this.leases.get(key);
    if (held && held.expires > this.now()) return false;
    this.leases.set(key, { token, expires: this.now() + ttlMs });
    return true;
  }

  async renewLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const held = this.leases.get(key);
    if (!held || held.token !== token || held.expires <= this.now()) return false;
    held.expires = this.now() + ttlMs;
    return true;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    if (this.leases.get(key)?.token === token) this.leases.delete(key);
  }

  async addWindowed(key: string, n: number, ttlMs: number): Promise<number> {
    const live = this.liveWindow(key);
    const next = {
      n: (live?.n ?? 0) + Math.trunc(n),
      expires: live?.expires ?? this.now() + Math.max(1, Math.ceil(ttlMs)),
    };
    this.windows.set(key, next);
    return next.n;
  }

  async readWindowed(keys: string[]): Promise<number[]> {
    return keys.map((k) => this.liveWindow(k)?.n ?? 0);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const t = this.now();
    const expires = this.claims.get(key);
    if (expires !== undefined && expires > t) return false;
    this.claims.set(key, t + ttlMs);
    return true;
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const map of [this.entries, this.counters, this.claims, this.windows, this.leases]) {
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
    }
  }

  async close(): Promise<void> {}

  /** The window under `key` unless it has expired (an expired one is dropped here, lazily). */
  private liveWindow(key: string): { n: number; expires: number } | undefined {
    const w = this.windows.get(key);
    if (w === undefined || w.expires > this.now()) return w;
    this.windows.delete(key);
    return undefined;
  }
}
