/**
 * Per key, how long to leave something that keeps failing alone: after the nth failure in a
 * row, `firstMs · 2^(n−1)`, at most `maxMs`; a success forgets the key. Bounded: past `maxKeys`
 * the oldest key is forgotten (it is simply tried again).
 */
export class FailureBackoff {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(private readonly opts: { firstMs: number; maxMs: number; now: () => number; maxKeys?: number }) {}

  /** Milliseconds before `key` may be tried again; 0 when it may now. */
  waitMs(key: string): number {
    const f = this.failures.get(key);
    return f ? Math.max(0, f.until - this.opts.now()) : 0;
  }

  failed(key: string): void {
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    const wait = Math.min(this.opts.maxMs, this.opts.firstMs * 2 ** Math.min(count - 1, 30));
    this.failures.delete(key);
    this.failures.set(key, { count, until: this.opts.now() + wait });
    if (this.failures.size > (this.opts.maxKeys ?? 10_000)) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
