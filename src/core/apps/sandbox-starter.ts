import type {
  AppRecord,
  AppStore,
  FileMap,
  Logger,
  SandboxHandle,
  SandboxProvider,
  VersionRecord,
} from '../ports/index.ts';
import type { SandboxSlots, SlotOptions } from './sandbox-slots.ts';

/** A sandbox AppRuntime has running for an app. */
export interface Running {
  handle: SandboxHandle;
  lastActive: number;
  /** The stored version whose files it holds (undefined: a create's, not stored yet). */
  version?: number;
  /** When that was last compared with the store's newest version (another process may have made one). */
  checkedAt?: number;
}

/** How often a running sandbox in use is compared with the store's newest version. */
const FOLLOW_EVERY_MS = 2000;

export interface StartOptions extends SlotOptions {
  /** The app's record as the caller just read it (and its newest version, if read): not read again. */
  app?: AppRecord;
  version?: VersionRecord;
}

/**
 * How AppRuntime's sandboxes come up: a new app's boot, or a sleeping app's wake (its sandbox
 * re-attached if it outlived the bot, else one booted from its newest stored version). One
 * start per app at a time, each in a slot of the cap; a running sandbox follows the store.
 */
export class SandboxStarter {
  private starting = new Map<string, Promise<SandboxHandle>>();

  constructor(
    private readonly deps: {
      provider: SandboxProvider;
      store: AppStore;
      logger: Logger;
      slots: SandboxSlots;
      /** The runtime's running apps: a start adds its sandbox here. */
      running: Map<string, Running>;
      /** Stops an app's running sandbox (one deleted while it booted). */
      stopRunning: (appId: string) => Promise<void>;
      /** Notes the files a start or a follow wrote into the app's sandbox. */
      wrote: (appId: string, files: FileMap) => void;
      now: () => number;
    },
  ) {}

  /** The app's start under way, if any. */
  pending(appId: string): Promise<SandboxHandle> | undefined {
    return this.starting.get(appId);
  }

  /** Every start under way. */
  allPending(): Promise<SandboxHandle>[] {
    return [...this.starting.values()];
  }

  /** Sandboxes being started now. */
  count(): number {
    return this.starting.size;
  }

  /**
   * Boots a fresh sandbox for a new app (before it is in the store), or takes over the one
   * booted ahead for its id (a warm sandbox, see WarmSandboxes) when that came up and still runs.
   */
  async boot(
    appId: string,
    opts: StartOptions,
    files?: FileMap,
    labels?: Record<string, string>,
  ): Promise<SandboxHandle> {
    const booting = this.pending(appId); // read before any await: a boot begun here is seen by the next caller
    if (booting) await booting.catch(() => undefined);
    const warm = this.deps.running.get(appId);
    if (warm && (await this.deps.provider.status(warm.handle.id)) === 'running') {
      warm.lastActive = this.now();
      const refused = files ? await this.deps.provider.write(warm.handle.id, files) : [];
      if (refused.length > 0) throw new Error(`refusing to boot ${appId}: ${refused[0]!.file}: ${refused[0]!.message}`);
      if (files) this.deps.wrote(appId, files);
      return warm.handle;
    }
    if (warm) await this.deps.stopRunning(appId);
    return this.startOnce(appId, () => this.start(appId, opts, files, labels));
  }

  /** The app's running sandbox, woken from its newest stored version when needed. */
  async ensure(appId: string, opts: StartOptions): Promise<SandboxHandle> {
    const r = this.deps.running.get(appId);
    if (r) {
      if ((await this.deps.provider.status(r.handle.id)) === 'running') {
        r.lastActive = this.now();
        await this.follow(appId, r, opts);
        return r.handle;
      }
      this.deps.logger.warn({ appId, sandboxId: r.handle.id }, 'sandbox died; replacing it from the store');
      if (this.deps.running.get(appId) === r) this.deps.running.delete(appId);
      this.deps.slots.wake();
    }
    return this.startOnce(appId, async () => {
      const app = opts.app ?? (await this.deps.store.getApp(appId));
      if (!app || app.deleted) throw new Error(`no app ${appId}`);
      // A sandbox that outlived a restart of the bot (Modal) is picked up again, not replaced.
      const attached = app.sandboxId ? await this.deps.provider.attach?.(appId, app.sandboxId) : undefined;
      if (attached) {
        this.deps.logger.info({ appId, sandboxId: attached.id }, 're-attached a running sandbox');
        const r: Running = { handle: attached, lastActive: this.now(), version: 0 };
        this.deps.running.set(appId, r);
        await this.follow(appId, r, opts); // what it holds is unknown: the store's newest version goes in
        return attached;
      }
      // Gone: the store stops pointing at it now, so a wake that fails below is not retried on it.
      if (app.sandboxId) await this.deps.store.updateApp(appId, { sandboxId: undefined, sandboxUrl: undefined });
      const version = await this.versionOf(app, opts.version);
      if (!version) throw new Error(`app ${appId} has no version ${app.latestVersion}`);
      this.deps.logger.info({ appId, version: version.number }, 'waking app from the store');
      const handle = await this.start(appId, opts, version.files, { channel: app.channelId }, async () => {
        // Deleted while it booted: it must not stay served.
        const again = await this.deps.store.getApp(appId);
        return Boolean(again && !again.deleted);
      });
      await this.deps.store.updateApp(appId, { sandboxId: handle.id, sandboxUrl: handle.url });
      this.synced(appId, version.number);
      return handle;
    });
  }

  /** The app's running sandbox now holds stored version `n` (the bot just stored what it wrote). */
  synced(appId: string, n: number): void {
    const r = this.deps.running.get(appId);
    if (r) {
      r.version = n;
      r.checkedAt = this.now();
    }
  }

  /**
   * Sandboxes follow the store: one whose files are older than the store's newest version (made
   * by another bot process) gets that version written before it is used. Checked at most every
   * FOLLOW_EVERY_MS; a sandbox with unstored work (a create, or a change being made here) has
   * the version it started from, so it is never overwritten while its build runs. A caller that
   * has just read the app passes it (`known`), and it is compared at once without a read.
   */
  private async follow(appId: string, r: Running, known: Pick<StartOptions, 'app' | 'version'> = {}): Promise<void> {
    const fresh = known.app !== undefined;
    if (r.version === undefined) return;
    if (!fresh && r.checkedAt !== undefined && this.now() - r.checkedAt < FOLLOW_EVERY_MS) return;
    r.checkedAt = this.now();
    const app = known.app ?? (await this.deps.store.getApp(appId));
    if (!app || app.latestVersion <= r.version) return;
    const latest = await this.versionOf(app, known.version);
    if (!latest) return;
    const refused = await this.deps.provider.write(r.handle.id, latest.files);
    if (refused.length === 0) this.deps.wrote(appId, latest.files);
    if (refused.length > 0) this.deps.logger.warn({ appId, refused }, 'the newest stored version was refused on write');
    else this.deps.logger.info({ appId, from: r.version, to: latest.number }, 'brought a sandbox up to the store');
    r.version = latest.number;
  }

  /** The app's newest version: `given` when it is that one, else read. */
  private async versionOf(app: AppRecord, given?: VersionRecord): Promise<VersionRecord | undefined> {
    return given?.number === app.latestVersion ? given : this.deps.store.getVersion(app.id, app.latestVersion);
  }

  private now(): number {
    return this.deps.now();
  }

  private async startOnce(appId: string, start: () => Promise<SandboxHandle>): Promise<SandboxHandle> {
    const existing = this.starting.get(appId);
    if (existing) return existing;
    const p = start().finally(() => this.starting.delete(appId));
    this.starting.set(appId, p);
    return p;
  }

  private async start(
    appId: string,
    opts: StartOptions,
    files?: FileMap,
    labels?: Record<string, string>,
    stillWanted?: () => Promise<boolean>,
  ): Promise<SandboxHandle> {
    await this.deps.slots.take(appId, opts);
    let handle: SandboxHandle;
    try {
      handle = await this.deps.provider.boot(appId, files, labels);
      this.deps.running.set(appId, { handle, lastActive: this.now() });
      if (files) this.deps.wrote(appId, files);
    } finally {
      this.deps.slots.release();
    }
    if (stillWanted && !(await stillWanted())) {
      await this.deps.stopRunning(appId);
      throw new Error(`no app ${appId}`);
    }
    return handle;
  }
}
