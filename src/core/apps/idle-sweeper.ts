import type { Logger, SandboxProvider } from '../ports/index.ts';
import type { Running } from './sandbox-starter.ts';

/**
 * Which of AppRuntime's sandboxes go for idleness: those nobody used for `idleMs` and nobody
 * holds (a warm sandbox waiting for an app never does). Where the provider idles its sandboxes
 * itself (Modal), it stops nothing and only forgets the ones that are no longer running.
 */
export class IdleSweeper {
  constructor(
    private readonly deps: {
      provider: SandboxProvider;
      logger: Logger;
      idleMs: number;
      /** The runtime's running apps (read, never written here). */
      running: ReadonlyMap<string, Running>;
      /** Held by a request: never stopped or forgotten now. */
      held: (appId: string) => boolean;
      /** A warm sandbox waiting for an app: not idle. */
      waiting: (appId: string) => boolean;
      /** Stops the app's sandbox (after a start under way). */
      stop: (appId: string) => Promise<void>;
      /** Drops the app's sandbox the host already stopped (its slot, the store's pointer). */
      forget: (appId: string) => Promise<void>;
      now: () => number;
    },
  ) {}

  /** The apps stopped (or, with `idlesItself`, forgotten) by this sweep. */
  async sweep(): Promise<string[]> {
    if (this.deps.provider.idlesItself) return this.forgetStopped();
    const cutoff = this.deps.now() - this.deps.idleMs;
    const idle = [...this.deps.running]
      .filter(([id, r]) => !this.deps.held(id) && !this.deps.waiting(id) && r.lastActive <= cutoff)
      .map(([id]) => id);
    for (const appId of idle) {
      this.deps.logger.info({ appId }, 'stopping idle app');
      await this.deps.stop(appId);
    }
    return idle;
  }

  private async forgetStopped(): Promise<string[]> {
    const gone: string[] = [];
    for (const [appId, r] of [...this.deps.running]) {
      if (this.deps.held(appId) || (await this.deps.provider.status(r.handle.id)) === 'running') continue;
      if (this.deps.running.get(appId) !== r) continue; // replaced meanwhile
      this.deps.logger.info({ appId, sandboxId: r.handle.id }, 'the sandbox host stopped this idle app');
      await this.deps.forget(appId); // releases the slot and clears the store's pointer
      gone.push(appId);
    }
    return gone;
  }
}
