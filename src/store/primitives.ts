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
  /** Current counter values, 0 for absent keys, in the order asked. */
  read(keys: string[]): Promise<number[]>;
  /** True for exactly one caller per `key` until `ttlMs` has passed (then the next caller claims it again). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Deletes every Keyv entry, counter and claim whose key starts with `prefix` (tests, tear-down). */
  deletePrefix(prefix: string): Promise<void>;
  /** Closes the connection shared with the Keyv adapter. */
  close(): Promise<void>;
}
