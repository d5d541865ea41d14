import type { Logger } from '../ports/index.ts';

/** Every sandbox slot is taken by a request that is still using it: a wake must come back later. */
export class RuntimeBusyError extends Error {
  override name = 'RuntimeBusyError';
}

/** How a start waits for a slot. */
export interface SlotOptions {
  /** Wait for a slot when every one is in use (builds); without it a full runtime throws RuntimeBusyError (gateway wakes). */
  wait?: boolean;
  /** Called once when the start has to wait for a slot (the status message says so). */
  onWait?: () => void;
}

/**
 * AppRuntime's cap (`maxRunning`) and the holds it respects: a slot for each sandbox that runs,
 * is being started or is being stopped. A start takes one, making room by stopping the
 * longest-idle app nobody holds; when every one is held it waits (or refuses). Knows no
 * provider: it reads the runtime's running apps and stops one through `stop`.
 */
export class SandboxSlots {
  /** Slots taken by starts under way and by sandboxes being stopped: they count against the cap. */
  private reserved = 0;
  private stopping = 0;
  /** Requests working on an app (from boot or wake to their last write): never stopped for idleness or room then. */
  private holds = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly deps: {
      maxRunning: number;
      logger: Logger;
      /** The runtime's running apps (read, never written here). */
      running: ReadonlyMap<string, { lastActive: number }>;
      /** Stops an app's running sandbox, freeing its slot. */
      stop: (appId: string) => Promise<void>;
    },
  ) {}

  /** Sandboxes that exist or are being made or stopped: what the cap bounds. */
  inUse(): number {
    return this.deps.running.size + this.reserved + this.stopping;
  }

  held(appId: string): boolean {
    return this.holds.has(appId);
  }

  /** Whether any request is working on an app now. */
  anyHeld(): boolean {
    return this.holds.size > 0;
  }

  /** Holds the app until the returned release is called (the first call counts); `onRelease` runs then. */
  hold(appId: string, onRelease: () => void): () => void {
    this.holds.set(appId, (this.holds.get(appId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.holds.get(appId) ?? 1) - 1;
      if (n > 0) this.holds.set(appId, n);
      else this.holds.delete(appId);
      onRelease();
      this.wake(); // a waiting start may now stop this app to make room
    };
  }

  /** Reserves one slot under the cap for `appId`'s start, stopping the longest-idle app nobody holds to make one. */
  async take(appId: string, opts: SlotOptions): Promise<void> {
    let waited = false;
    for (;;) {
      if (this.closed) throw new Error('the bot is shutting down');
      if (this.inUse() < this.deps.maxRunning) {
        this.reserved++; // taken synchronously, so concurrent starts cannot both see the same free slot
        return;
      }
      const victim = [...this.deps.running]
        .filter(([id]) => !this.holds.has(id) && id !== appId)
        .sort((a, b) => a[1].lastActive - b[1].lastActive)[0];
      if (victim) {
        this.deps.logger.info({ appId: victim[0] }, 'stopping the longest-idle app to stay under VIBE_MAX_RUNNING');
        await this.deps.stop(victim[0]);
        continue;
      }
      if (!opts.wait) throw new RuntimeBusyError(`all ${this.deps.maxRunning} sandboxes are in use`);
      if (!waited) opts.onWait?.();
      waited = true;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Gives back a start's reserved slot: its sandbox now runs (and counts as running) or never booted. */
  release(): void {
    this.reserved--;
    this.wake(); // a waiting start may now make room by stopping an app that is idle and unheld
  }

  /** Counts a sandbox being stopped against the cap until `stop` ends. */
  async whileStopping(stop: () => Promise<void>): Promise<void> {
    this.stopping++;
    try {
      await stop();
    } finally {
      this.stopping--;
      this.wake();
    }
  }

  /** Shutdown: starts still waiting for a slot give up, and none takes one again. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Something freed a slot or a hold: every waiting start looks again. */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
