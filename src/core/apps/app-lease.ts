import { UserError } from '../errors.ts';
import type { AppStore, Logger } from '../ports/index.ts';

export interface AppLeaseOptions {
  /** How long a lease lasts unless renewed (renewed every third of it while its holder works). */
  ttlMs?: number;
  /** How often a process waiting for a lease tries again. */
  pollMs?: number;
  /** How long a change waits for another process's change to the same app before giving up. */
  maxWaitMs?: number;
}

/**
 * One writer per app across every bot process on the store: whoever changes an app (refine,
 * undo, restore, delete, export, a first-view publish) holds its lease in the store and renews
 * it while it works; another process's change to the same app waits for it. A holder that dies
 * stops renewing, so its lease runs out and the next one goes ahead. Inside one process the
 * per-app queue already orders changes; this orders processes.
 */
export class AppLeases {
  private readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly store: Pick<AppStore, 'acquireLease' | 'renewLease' | 'releaseLease'>,
    private readonly logger: Logger,
    opts: AppLeaseOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 200;
    this.maxWaitMs = opts.maxWaitMs ?? 20 * 60_000;
  }

  /** Runs `task` holding the app's lease, waiting for it first if another process holds it (`onWait` once). */
  async with<T>(appId: string, task: () => Promise<T>, onWait?: () => void): Promise<T> {
    const name = `app:${appId}`;
    const token = await this.acquire(name, onWait);
    let lost = false;
    const renewer = setInterval(() => {
      this.store.renewLease(name, token, this.ttlMs).then(
        (held) => {
          if (!held && !lost) {
            lost = true;
            // The compare-and-set on versions still refuses a change that lost the race.
            this.logger.warn({ appId }, 'lost the lease on an app while changing it');
          }
        },
        (err: unknown) => this.logger.warn({ err, appId }, 'could not renew the lease on an app'),
      );
    }, this.ttlMs / 3);
    renewer.unref();
    try {
      return await task();
    } finally {
      clearInterval(renewer);
      await this.store
        .releaseLease(name, token)
        .catch((err: unknown) => this.logger.warn({ err, appId }, 'could not release the lease on an app'));
    }
  }

  private async acquire(name: string, onWait?: () => void): Promise<string> {
    const deadline = Date.now() + this.maxWaitMs;
    let told = false;
    for (;;) {
      const token = await this.store.acquireLease(name, this.ttlMs);
      if (token !== undefined) return token;
      if (!told) onWait?.();
      told = true;
      if (Date.now() >= deadline)
        throw new UserError('Another change to this app has been running for a long time; try again later.');
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}
