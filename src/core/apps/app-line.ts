import { UserError } from '../errors.ts';
import type { AppLeases } from './app-lease.ts';
import { KeyedQueue } from './keyed-queue.ts';

/** Changes (and exports) that may wait behind the one under way, per app; more are refused. */
export const MAX_QUEUED_CHANGES = 3;

/**
 * Each app's line: one change at a time, in order. First this process's per-app queue, then the
 * app's lease in the store, so no other bot process changes it at the same time.
 */
export class AppLine {
  private readonly queue = new KeyedQueue();

  /** `leases`: one writer per app across bot processes (none: one process, its queue is enough). */
  constructor(private readonly leases?: AppLeases) {}

  /** Runs `task` in the app's line; `counted: false` for work that is no one's request (see KeyedQueue). */
  run<T>(appId: string, task: () => Promise<T>, opts?: { counted: false }): Promise<T> {
    return this.queue.run(appId, () => (this.leases ? this.leases.with(appId, task) : task()), opts);
  }

  /** Requests under way or waiting on the app. */
  depth(appId: string): number {
    return this.queue.depth(appId);
  }

  /**
   * At most MAX_QUEUED_CHANGES requests wait behind the one under way on an app. Exports wait
   * in the same line (each runs a build in the app's sandbox), so a flood of Export presses
   * cannot hold the app's changes up. Called with no await before joining the line.
   */
  refuseIfFull(appId: string, kind: 'refine' | 'export'): void {
    if (this.queue.depth(appId) <= MAX_QUEUED_CHANGES) return;
    throw new UserError(
      kind === 'export'
        ? `This app already has ${MAX_QUEUED_CHANGES} requests waiting behind the one under way. Please ask for the export again once they are done.`
        : `This app already has ${MAX_QUEUED_CHANGES} changes waiting behind the one under way. Please wait for the current changes to finish, then ask again.`,
    );
  }
}
