import type { AppLink, AppLinks } from './app-links.ts';
import type {
  AppRecord,
  AppStore,
  CheckError,
  FileMap,
  Logger,
  RenderChecker,
  RenderResult,
  SandboxHandle,
  SandboxProvider,
} from '../ports/index.ts';
import type { ScratchState } from '../ports/shared.ts';
import { LightBuilds } from './light-builds.ts';
import { renderBuild } from './render-build.ts';
import { SandboxSlots } from './sandbox-slots.ts';
import { SandboxStarter, type Running, type StartOptions } from './sandbox-starter.ts';
import { IdleSweeper } from './idle-sweeper.ts';
import { WarmSandboxes } from './warm-sandboxes.ts';
import { newId } from '../ids.ts';

/**
 * Which app runs in which sandbox: the one owner of that fact (nothing else talks to the
 * SandboxProvider or writes an app's sandboxId/sandboxUrl). Everything else works on apps:
 * `write`, `check` and `link` by app id. Boots, wakes (from the stored files), stops idle apps
 * after `idleMs`, and never has more than `maxRunning` sandboxes starting, running or
 * stopping at once: to make room it stops the longest-idle app nobody holds, and when every
 * one is held it makes the caller wait (or refuses, for a wake that should not queue).
 * Provider-neutral. Its parts, used by nothing else: SandboxStarter (boots), SandboxSlots (the
 * cap, the holds), LightBuilds (what each sandbox holds and its build), WarmSandboxes (booted ahead).
 */
export class AppRuntime {
  private running = new Map<string, Running>();
  private builds = new LightBuilds();
  private readonly slots: SandboxSlots;
  private readonly starter: SandboxStarter;
  private readonly warm: WarmSandboxes;
  private readonly sweeper: IdleSweeper;
  private sweeping?: NodeJS.Timeout;

  constructor(
    private readonly deps: {
      provider: SandboxProvider;
      store: AppStore;
      logger: Logger;
      idleMs: number;
      maxRunning: number;
      links: AppLinks;
      /** Opens apps the way viewers do (VIBE_BROWSER); none = no runtime check. */
      browser?: RenderChecker;
      /** A scratch copy of the app's shared state for each check (its page never touches the real one). */
      scratch?: (appId: string) => Promise<ScratchState>;
      /** Sandboxes to keep booted for new apps (VIBE_WARM_SANDBOXES); none when unset. */
      warm?: number;
      now?: () => number;
    },
  ) {
    this.slots = new SandboxSlots({
      maxRunning: deps.maxRunning,
      logger: deps.logger,
      running: this.running,
      stop: (appId) => this.stopRunning(appId),
    });
    this.starter = new SandboxStarter({
      provider: deps.provider,
      store: deps.store,
      logger: deps.logger,
      slots: this.slots,
      running: this.running,
      stopRunning: (appId) => this.stopRunning(appId),
      wrote: (appId, files) => this.builds.wrote(appId, files),
      now: () => this.now(),
    });
    this.warm = new WarmSandboxes({
      size: deps.warm ?? 0,
      logger: deps.logger,
      slotFree: () => this.slots.inUse() < deps.maxRunning - 1, // never the last free slot
      boot: (appId) => this.starter.boot(appId, { wait: false }),
      running: this.running,
      now: () => this.now(),
    });
    this.sweeper = new IdleSweeper({
      provider: deps.provider,
      logger: deps.logger,
      idleMs: deps.idleMs,
      running: this.running,
      held: (appId) => this.slots.held(appId),
      waiting: (appId) => this.warm.has(appId),
      stop: (appId) => this.stop(appId),
      forget: (appId) => this.stopRunning(appId),
      now: () => this.now(),
    });
  }

  /** The id for a new app: a warm sandbox's when one waits (`boot` then takes it over), else a fresh one. */
  newAppId(): string {
    return this.warm.take() ?? newId();
  }

  /**
   * Writes the app's files into its running sandbox; what the sandbox refuses comes back (nothing
   * written then). Files it holds already (the live writer's) are not sent again; after a write
   * that failed, what it holds is not known.
   */
  async write(appId: string, files: FileMap): Promise<CheckError[]> {
    const id = this.handleOf(appId).id;
    if (this.builds.holds(appId, files)) return [];
    const refused = await this.deps.provider.write(id, files).catch((err: unknown) => {
      this.builds.forget(appId);
      throw err;
    });
    if (refused.length === 0) this.builds.wrote(appId, files);
    return refused;
  }

  /** Type and import errors of the files in the app's running sandbox (begun ahead, see prepare). */
  async check(appId: string): Promise<CheckError[]> {
    const id = this.handleOf(appId).id;
    return this.builds.early(appId, 'check', () => this.deps.provider.check(id));
  }

  /** Begins the checks of the files just written (the model still finishing its turn): see LightBuilds.early. */
  prepare(appId: string): void {
    const source = this.builds.source(appId);
    const id = this.running.get(appId)?.handle.id; // never throws: it runs inside the model's progress
    if (source === undefined || id === undefined) return;
    this.builds.ahead(appId, source, 'check', () => this.deps.provider.check(id));
    if (this.deps.browser) this.builds.ahead(appId, source, 'render', () => this.renderSource(appId, source));
  }

  /** A production build of the app's running sandbox to take away; undefined where the provider cannot make one. */
  async exportBuild(appId: string): Promise<Map<string, Uint8Array> | undefined> {
    return this.deps.provider.exportBuild?.(this.handleOf(appId).id);
  }

  /** Whether sandboxes can hand over their light view's build (publishing needs it). */
  get canPublish(): boolean {
    return this.deps.provider.lightBuild !== undefined;
  }

  /**
   * The light view's build of exactly `source` from the app's running sandbox (see
   * SandboxProvider.lightBuild): fetched once for the source last written, so the bytes the
   * browser check opened are the bytes published.
   */
  async lightBuild(appId: string, source: string): Promise<Map<string, Uint8Array>> {
    const provider = this.deps.provider;
    if (!provider.lightBuild) throw new Error('this sandbox provider cannot hand over builds');
    const id = this.handleOf(appId).id;
    return this.builds.get(appId, source, () => provider.lightBuild!(id, source));
  }

  /**
   * Opens the production build of the files last written in the check browser (see
   * renderBuild; begun ahead, see prepare); undefined when the bot has no browser.
   */
  async render(appId: string): Promise<RenderResult | undefined> {
    if (!this.deps.browser) return undefined;
    const source = this.builds.source(appId);
    if (source === undefined) throw new Error(`app ${appId} has no written files to check`);
    return this.builds.early(appId, 'render', () => this.renderSource(appId, source));
  }

  private async renderSource(appId: string, source: string): Promise<RenderResult | undefined> {
    const deps = { browser: this.deps.browser!, scratch: this.deps.scratch, now: () => this.now() };
    const build = this.canPublish ? () => this.lightBuild(appId, source) : undefined;
    return renderBuild(deps, appId, this.handleOf(appId).url, build);
  }

  /** The links users get for the app (see AppLinks), from its running sandbox or, when it sleeps, the stored record. */
  link(app: Pick<AppRecord, 'id' | 'sandboxUrl'>): AppLink {
    return this.deps.links.forApp(app.id, this.running.get(app.id)?.handle.url ?? app.sandboxUrl);
  }

  /** The app a posted URL links to (see AppLinks.appIdIn). */
  appIdIn(url: string): string | undefined {
    return this.deps.links.appIdIn(url);
  }

  /** Stores which sandbox serves the app (after a create, once the app is in the store). */
  async record(appId: string, version: number): Promise<AppRecord> {
    this.synced(appId, version);
    const r = this.running.get(appId);
    return this.deps.store.updateApp(appId, { sandboxId: r?.handle.id, sandboxUrl: r?.handle.url });
  }

  private handleOf(appId: string): SandboxHandle {
    const r = this.running.get(appId);
    if (!r) throw new Error(`app ${appId} has no running sandbox`);
    return r.handle;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Starts the idle sweeper (checks every `everyMs`). */
  startSweeper(everyMs = Math.min(30_000, Math.max(1000, this.deps.idleMs / 4))): void {
    this.sweeping = setInterval(() => {
      void this.stopIdle().catch((err) => this.deps.logger.error({ err }, 'idle sweep failed'));
      this.warm.fill(); // also while builds run: a busy bot still gets its warm sandboxes back
    }, everyMs);
    this.sweeping.unref();
    this.warm.fill();
  }

  isRunning(appId: string): boolean {
    return this.running.has(appId);
  }

  /** Apps' sandboxes running and being started (warm ones waiting for an app apart). */
  counts(): { running: number; starting: number; warm: number } {
    const warm = this.warm.ids();
    return {
      running: [...this.running.keys()].filter((id) => !this.warm.has(id)).length,
      starting: this.starter.count() - warm.filter((id) => this.starter.pending(id)).length,
      warm: warm.length,
    };
  }

  touch(appId: string): void {
    const r = this.running.get(appId);
    if (r) r.lastActive = this.now();
  }

  /**
   * Holds the app's sandbox for a request until the returned release is called: from before
   * its boot or wake to its last write, it is never stopped for idleness or to make room.
   */
  hold(appId: string): () => void {
    return this.slots.hold(appId, () => {
      this.touch(appId);
      // Taken warm sandboxes are booted again once no request is working (else at the next sweep).
      if (!this.slots.anyHeld() && this.starter.count() === 0) this.warm.fill();
    });
  }

  /** Keeps the app running while `task` works on it. */
  async pinned<T>(appId: string, task: () => Promise<T>): Promise<T> {
    return Promise.resolve().then(task).finally(this.hold(appId));
  }

  /** Sandboxes that exist or are being made or stopped: what the cap bounds. */
  slotsInUse(): number {
    return this.slots.inUse();
  }

  /** Boots a fresh sandbox for a new app (before it is in the store), or takes over its warm one (see newAppId). */
  async boot(appId: string, files?: FileMap, labels?: Record<string, string>, opts: StartOptions = { wait: true }) {
    return this.starter.boot(appId, opts, files, labels);
  }

  /** The app's running sandbox, woken from its newest stored version when needed. */
  async ensure(appId: string, opts: StartOptions = { wait: true }): Promise<SandboxHandle> {
    return this.starter.ensure(appId, opts);
  }

  /** The app's running sandbox now holds stored version `n` (the bot just stored what it wrote). */
  synced(appId: string, n: number): void {
    this.starter.synced(appId, n);
  }

  async stop(appId: string): Promise<void> {
    await this.starter.pending(appId)?.catch(() => undefined);
    await this.stopRunning(appId);
  }

  /** Stops the app's running sandbox (not waiting for a start under way: that start may be the caller). */
  private async stopRunning(appId: string): Promise<void> {
    const r = this.running.get(appId);
    if (!r) return;
    this.running.delete(appId);
    this.builds.forget(appId);
    this.warm.forget(appId);
    await this.slots.whileStopping(async () => {
      await this.deps.provider.stop(r.handle.id);
      this.deps.logger.info({ appId, sandboxId: r.handle.id }, 'sandbox stopped');
    });
    // The store no longer points at it (a failed create has no record: nothing to clear).
    if (await this.deps.store.getApp(appId))
      await this.deps.store.updateApp(appId, { sandboxId: undefined, sandboxUrl: undefined });
  }

  /** Stops the apps idle for `idleMs` that no request holds (see IdleSweeper). */
  stopIdle(): Promise<string[]> {
    return this.sweeper.sweep();
  }

  /** Shutdown: the provider decides (local processes end; Modal sandboxes are left to be re-attached). */
  async stopAll(): Promise<void> {
    if (this.sweeping) clearInterval(this.sweeping);
    const waiting = this.warm.close();
    this.slots.close();
    await Promise.allSettled(this.starter.allPending());
    // Warm ones hold nothing: stopped even where sandboxes outlive the bot (nothing could re-attach them).
    await Promise.allSettled(waiting.map((appId) => this.stopRunning(appId)));
    this.running.clear();
    await this.deps.provider.stopAll();
  }
}
