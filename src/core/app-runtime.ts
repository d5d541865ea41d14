import type { AppStore, FileMap, SandboxHandle, SandboxProvider } from './ports.ts';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

interface Running {
  handle: SandboxHandle;
  lastActive: number;
  /** >0 while a request works on the app: never stopped for idleness or the cap then. */
  pins: number;
}

/**
 * Which app runs in which sandbox. Boots, wakes (from the stored files), stops idle apps
 * after `idleMs`, and keeps at most `maxRunning` sandboxes by stopping the longest idle.
 * Provider-neutral: the same policy applies to local processes and Modal sandboxes.
 */
export class AppRuntime {
  private running = new Map<string, Running>();
  private starting = new Map<string, Promise<SandboxHandle>>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly deps: {
      provider: SandboxProvider;
      store: AppStore;
      logger: Logger;
      idleMs: number;
      maxRunning: number;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Starts the idle sweeper (checks every `everyMs`). */
  startSweeper(everyMs = Math.min(30_000, Math.max(1000, this.deps.idleMs / 4))): void {
    this.sweeper = setInterval(() => void this.stopIdle().catch((err) => this.deps.logger.error({ err }, 'idle sweep failed')), everyMs);
    this.sweeper.unref();
  }

  isRunning(appId: string): boolean {
    return this.running.has(appId);
  }

  runningCount(): number {
    return this.running.size;
  }

  touch(appId: string): void {
    const r = this.running.get(appId);
    if (r) r.lastActive = this.now();
  }

  /** Keeps the app running while `task` works on it. */
  async pinned<T>(appId: string, task: () => Promise<T>): Promise<T> {
    const r = this.running.get(appId);
    if (r) r.pins++;
    try {
      return await task();
    } finally {
      const again = this.running.get(appId);
      if (again && again.pins > 0) again.pins--;
      this.touch(appId);
    }
  }

  /** Boots a fresh sandbox for a new app (before it is in the store). */
  async boot(appId: string, files?: FileMap, labels?: Record<string, string>): Promise<SandboxHandle> {
    return this.startOnce(appId, () => this.start(appId, files, labels));
  }

  /** The app's running sandbox, woken from its newest stored version when needed. */
  async ensure(appId: string): Promise<SandboxHandle> {
    const r = this.running.get(appId);
    if (r) {
      if ((await this.deps.provider.status(r.handle.id)) === 'running') {
        r.lastActive = this.now();
        return r.handle;
      }
      this.deps.logger.warn({ appId, sandboxId: r.handle.id }, 'sandbox died; replacing it from the store');
      this.running.delete(appId);
    }
    return this.startOnce(appId, async () => {
      const app = await this.deps.store.getApp(appId);
      if (!app || app.deleted) throw new Error(`no app ${appId}`);
      // A sandbox that outlived a restart of the bot (Modal) is picked up again, not replaced.
      const attached = app.sandboxId ? await this.deps.provider.attach?.(appId, app.sandboxId) : undefined;
      if (attached) {
        this.deps.logger.info({ appId, sandboxId: attached.id }, 're-attached a running sandbox');
        this.running.set(appId, { handle: attached, lastActive: this.now(), pins: 0 });
        return attached;
      }
      const version = await this.deps.store.getVersion(appId, app.latestVersion);
      if (!version) throw new Error(`app ${appId} has no version ${app.latestVersion}`);
      this.deps.logger.info({ appId, version: version.number }, 'waking app from the store');
      const handle = await this.start(appId, version.files, { channel: app.channelId });
      await this.deps.store.updateApp(appId, { sandboxId: handle.id, sandboxUrl: handle.url });
      return handle;
    });
  }

  async stop(appId: string): Promise<void> {
    const pending = this.starting.get(appId);
    if (pending) await pending.catch(() => undefined);
    const r = this.running.get(appId);
    if (!r) return;
    this.running.delete(appId);
    await this.deps.provider.stop(r.handle.id);
    this.deps.logger.info({ appId, sandboxId: r.handle.id }, 'sandbox stopped');
  }

  async stopIdle(): Promise<string[]> {
    const cutoff = this.now() - this.deps.idleMs;
    const idle = [...this.running].filter(([, r]) => r.pins === 0 && r.lastActive <= cutoff).map(([id]) => id);
    for (const appId of idle) {
      this.deps.logger.info({ appId }, 'stopping idle app');
      await this.stop(appId);
      await this.deps.store.updateApp(appId, { sandboxId: undefined, sandboxUrl: undefined }).catch(() => undefined); // app may be unsaved (failed create)
    }
    return idle;
  }

  /** Shutdown: the provider decides (local processes end; Modal sandboxes are left to be re-attached). */
  async stopAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled([...this.starting.values()]);
    this.running.clear();
    await this.deps.provider.stopAll();
  }

  private async startOnce(appId: string, start: () => Promise<SandboxHandle>): Promise<SandboxHandle> {
    const existing = this.starting.get(appId);
    if (existing) return existing;
    const p = start().finally(() => this.starting.delete(appId));
    this.starting.set(appId, p);
    return p;
  }

  private async start(appId: string, files?: FileMap, labels?: Record<string, string>): Promise<SandboxHandle> {
    await this.makeRoom(appId);
    const handle = await this.deps.provider.boot(appId, files, labels);
    this.running.set(appId, { handle, lastActive: this.now(), pins: 0 });
    return handle;
  }

  /** Stops the longest-idle unpinned apps until one more fits under the cap. */
  private async makeRoom(appId: string): Promise<void> {
    // Other apps being started count against the cap; this one may already be in `starting`.
    const othersStarting = () => this.starting.size - (this.starting.has(appId) ? 1 : 0);
    while (this.running.size + othersStarting() >= this.deps.maxRunning) {
      const victim = [...this.running].filter(([, r]) => r.pins === 0).sort((a, b) => a[1].lastActive - b[1].lastActive)[0];
      if (!victim) return; // everything is busy: run over the cap rather than fail a request
      this.deps.logger.info({ appId: victim[0] }, 'stopping the longest-idle app to stay under VIBE_MAX_RUNNING');
      await this.stop(victim[0]);
    }
  }
}
