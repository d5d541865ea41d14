/** What one app's shared state may hold and take (see docs/shared-state.md). */
export interface SharedLimits {
  /** Bytes of the whole state, compacted. */
  stateBytes: number;
  /** Items over all of the app's lists. */
  listItems: number;
  /** Bytes of one value as JSON (a list item's value with its id, author and time). */
  valueBytes: number;
  /** Writes a connection may make per minute, on average... */
  writesPerMinute: number;
  /** ...and at once (the bucket's size: a page back online sends its offline writes together). */
  writeBurst: number;
  /** Pages connected to one app through one bot process. */
  connectionsPerApp: number;
}

export const SHARED_LIMITS: SharedLimits = {
  stateBytes: 1 << 20,
  listItems: 1000,
  valueBytes: 16 << 10,
  writesPerMinute: 60,
  writeBurst: 60,
  connectionsPerApp: 200,
};

/**
 * Close codes the server ends a connection with; the reason text goes with them, and the
 * client's hooks show status `offline` and `console.warn` it.
 */
export const CLOSE = {
  /** The update was malformed or broke the layout: it was refused, nothing of it was kept. */
  refused: 4400,
  /** The update would take the app over a limit (size, items, value size). */
  tooLarge: 4413,
  /** Too many writes from this page: wait a little. */
  rateLimited: 4429,
  /** The app's data was reset (`/vibe data reset`): start again empty. */
  reset: 4409,
  /** The app was deleted, or never existed. */
  gone: 4404,
  /** Too many pages of this app are open. */
  full: 4503,
} as const;

/** Token bucket: `rate` per minute, at most `burst` saved up. */
export class WriteBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(n: number): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 60_000);
    this.last = t;
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }
}
