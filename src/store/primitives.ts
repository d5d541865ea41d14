/**
 * The atomic operations Keyv's get/set API lacks. Each backend implements them on the adapter's
 * own connection so they are atomic across processes, not just within one.
 * Counter keys are separate from Keyv keys: read them only through `read`.
 */
export interface StorePrimitives {
  /** Atomically adds 1 and returns the new value (1 for a new key). */
  incr(key: string): Promise<number>;
  /** Atomically sets the counter to max(current, n) and returns the result. */
  raise(key: string, n: number): Promise<number>;
  /** Atomically sets the counter to `expected + 1` if it is `expected` (0 when absent); the new value, or undefined. */
  casIncr(key: string, expected: number): Promise<number | undefined>;
  /** Current counter values, 0 for absent keys, in the order asked. */
  read(keys: string[]): Promise<number[]>;
  /**
   * Atomically adds integer `n` (may be negative) to the windowed counter `key` and returns the new
   * total. An absent or expired key starts from 0 and expires `ttlMs` from now; adding to a live key
   * leaves its expiry where it is, so a window never slides.
   */
  addWindowed(key: string, n: number, ttlMs: number): Promise<number>;
  /** Current windowed totals, 0 for absent or expired keys, in the order asked. */
  readWindowed(keys: string[]): Promise<number[]>;
  /** True for exactly one caller per `key` until `ttlMs` has passed (then the next caller claims it again). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /**
   * A lease: `token` holds `key` for `ttlMs` if nobody holds it (or the holder's lease ran out).
   * True when taken. `renewLease` extends it only for its holder, `releaseLease` ends it only for
   * its holder: a holder that lost its lease cannot take it back from the next one.
   */
  lease(key: string, token: string, ttlMs: number): Promise<boolean>;
  renewLease(key: string, token: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, token: string): Promise<void>;
  /** Deletes every Keyv entry, counter, windowed counter, claim and lease whose key starts with `prefix` (tests, tear-down). */
  deletePrefix(prefix: string): Promise<void>;
  /** Closes the connection shared with the Keyv adapter. */
  close(): Promise<void>;
}
