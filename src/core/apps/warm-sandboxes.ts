import { newId } from '../ids.ts';
import type { Logger } from '../ports/index.ts';
import { FailureBackoff } from './failure-backoff.ts';

/**
 * Sandboxes booted before anyone asks, each for an app id picked in advance (a sandbox serves
 * one app at one address, `/apps/<id>/`, from its first process on): a new app takes one, and
 * its id, instead of waiting for a boot, so its files go into a dev server and a build that are
 * already warm while the model writes. A warm sandbox holds only the template's placeholder and
 * is never handed to a second app. It counts against VIBE_MAX_RUNNING but is the first stopped
 * to make room, and never makes room itself: it is booted only when that leaves a slot free.
 * AppRuntime owns the sandboxes; this keeps which of them wait for an app.
 */
export class WarmSandboxes {
  /** App ids whose sandbox is booting or booted and that no app has taken yet. */
  private readonly waiting = new Set<string>();
  private readonly backoff: FailureBackoff;
  private retry?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly deps: {
      /** How many to keep (VIBE_WARM_SANDBOXES); 0 = none. */
      size: number;
      logger: Logger;
      /** Whether a slot may be taken without stopping anything (and one stays free after). */
      slotFree: () => boolean;
      /** Boots a sandbox with the placeholder for a new app id, in a free slot. */
      boot: (appId: string) => Promise<unknown>;
      /** The runtime's running sandboxes: a warm one's `lastActive` is set here. */
      running: ReadonlyMap<string, { lastActive: number }>;
      now: () => number;
    },
  ) {
    this.backoff = new FailureBackoff({ firstMs: 5000, maxMs: 5 * 60_000, now: deps.now });
  }

  /** Whether `appId` is a warm sandbox no app has taken (stop it first to make room; never idle-stop it). */
  has(appId: string): boolean {
    return this.waiting.has(appId);
  }

  /** The app ids waiting. */
  ids(): string[] {
    return [...this.waiting];
  }

  /** An app id whose sandbox is booting or booted, now the caller's; undefined when none waits. */
  take(): string | undefined {
    const appId = this.waiting.values().next().value;
    if (appId === undefined) return undefined;
    this.waiting.delete(appId);
    const r = this.deps.running.get(appId);
    if (r) r.lastActive = this.deps.now();
    this.deps.logger.info({ appId }, 'a new app takes a warm sandbox');
    return appId;
  }

  /** The sandbox of `appId` is gone (stopped, or its boot failed): it no longer waits. */
  forget(appId: string): void {
    this.waiting.delete(appId);
  }

  /** Boots sandboxes until `size` wait, as far as free slots allow (each boot in the background). */
  fill(): void {
    while (!this.closed && this.waiting.size < this.deps.size && this.backoff.waitMs('boot') === 0) {
      if (!this.deps.slotFree()) return;
      const appId = newId();
      this.waiting.add(appId);
      this.deps.boot(appId).then(
        () => {
          this.backoff.succeeded('boot');
          // Waiting for an app: the first stopped to make room (the longest idle), never for idleness.
          const r = this.deps.running.get(appId);
          if (r && this.waiting.has(appId)) r.lastActive = 0;
        },
        (err: unknown) => {
          this.waiting.delete(appId);
          if (this.closed) return;
          this.backoff.failed('boot');
          this.deps.logger.warn(
            { err, appId, retryMs: this.backoff.waitMs('boot') },
            'could not boot a warm sandbox; new apps boot their own',
          );
          this.retryLater();
        },
      );
    }
  }

  /** Shutdown: no more boots; the ids still waiting (AppRuntime stops their sandboxes). */
  close(): string[] {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    return [...this.waiting];
  }

  private retryLater(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => this.fill(), this.backoff.waitMs('boot'));
    this.retry.unref();
  }
}
