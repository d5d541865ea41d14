import type Keyv from 'keyv';
import type {
  AppRecord,
  AppStore,
  BlobStore,
  BuildManifest,
  BuildRecord,
  Page,
  PublishedFile,
  VersionRecord,
} from '../core/ports/index.ts';
import { KeyvBlobStore } from './keyv-blob-store.ts';
import { KeyvSharedLog } from './keyv-shared-log.ts';
import { LocalSharedBus } from './shared-bus.ts';
import type { SharedBus } from '../core/ports/shared.ts';
import { StoreKeys } from './keys.ts';
import type { StorePrimitives } from './primitives.ts';
import { SlotIndex } from './slot-index.ts';
import { KeyvInstanceRegistry } from './keyv-instances.ts';
import { loadAppRecords, UPDATABLE, type StoredApp } from './load-apps.ts';
import { isAppId } from '../core/ids.ts';
import { StaleVersionError } from '../core/errors.ts';

const DEFAULT_VERSION_LIMIT = 20;
/** How long a handed-out version number may stay unwritten before it counts as a crashed writer's gap. */
const GAP_MS = 2000;

export interface KeyvAppStoreDeps {
  /** Keyv with key prefixing off: every key is already namespaced by StoreKeys. */
  keyv: Keyv;
  primitives: StorePrimitives;
  namespace: string;
  now?: () => number;
  /** Shared state's messages between processes (default: this process only). */
  bus?: SharedBus & { close?(): Promise<void> };
}

/**
 * AppStore on Keyv. Each value is written whole by one writer or is a write-once key, and
 * everything several writers change at once (version numbers, latest version, index slots,
 * the deleted flag) goes through atomic primitives, so concurrent requests lose nothing.
 */
export class KeyvAppStore implements AppStore {
  private readonly keyv: Keyv;
  /** Public for tests (and tear-down); the app code goes through the AppStore methods. */
  readonly primitives: StorePrimitives;
  readonly keys: StoreKeys;
  private readonly index: SlotIndex;
  private readonly now: () => number;
  readonly blobs: BlobStore;
  private readonly instances: KeyvInstanceRegistry;
  /** Apps' shared state (`@vibe/shared`): a log per app, in this same store. */
  readonly shared: KeyvSharedLog;
  private readonly bus: SharedBus & { close?(): Promise<void> };

  constructor(deps: KeyvAppStoreDeps) {
    this.keyv = deps.keyv;
    this.primitives = deps.primitives;
    this.keys = new StoreKeys(deps.namespace);
    this.now = deps.now ?? Date.now;
    this.blobs = new KeyvBlobStore(this.keyv, this.primitives, this.keys);
    this.instances = new KeyvInstanceRegistry(this.keyv, this.primitives, this.keys);
    this.bus = deps.bus ?? new LocalSharedBus();
    this.shared = new KeyvSharedLog(this.keyv, this.primitives, this.keys, this.bus);
    this.index = new SlotIndex(this.keyv, this.primitives, this.keys, (ids) => this.loadApps(ids));
  }

  async createApp(app: Omit<AppRecord, 'latestVersion' | 'createdAt' | 'updatedAt'>): Promise<AppRecord> {
    if (!isAppId(app.id)) throw new Error(`invalid app id "${app.id}" (use newId() from src/core/ids.ts)`);
    const key = this.keys.app(app.id);
    if ((await this.keyv.get(key)) !== undefined) throw new Error(`app ${app.id} already exists`);
    const t = this.now();
    const { deleted: _ignored, ...fields } = app;
    const stored: StoredApp = { ...fields, createdAt: t, updatedAt: t };
    await this.keyv.set(key, stored);
    await Promise.all([
      this.index.append(this.keys.channelIndex(app.channelId), app.id),
      this.index.append(this.keys.userIndex(app.ownerId), app.id),
    ]);
    return { ...stored, latestVersion: 0 };
  }

  async getApp(appId: string): Promise<AppRecord | undefined> {
    const [app] = await this.loadApps([appId]);
    return app;
  }

  async updateApp(
    appId: string,
    patch: Partial<Pick<AppRecord, 'title' | 'summary' | 'sandboxId' | 'sandboxUrl' | 'threadId'>>,
  ): Promise<AppRecord> {
    const before = await this.getApp(appId);
    if (!before) throw new Error(`no app ${appId}`);
    // Only the sandbox's id and URL can be cleared; an undefined title or thread changes nothing.
    const fields = UPDATABLE.filter((f) => f in patch && (patch[f] !== undefined || f.startsWith('sandbox')));
    // Each field its own key (null = cleared): two processes setting different fields both win.
    await Promise.all([
      ...fields.map((f) => this.keyv.set(this.keys.appField(appId, f), patch[f] ?? null)),
      this.primitives.raise(this.keys.touched(appId), this.now()),
    ]);
    // A new thread for the app is found by its replies from now on.
    if (patch.threadId && patch.threadId !== before.threadId) await this.setThread(patch.threadId, appId);
    const app = await this.getApp(appId);
    if (!app) throw new Error(`no app ${appId}`);
    return app;
  }

  async deleteApp(appId: string): Promise<void> {
    const stored = await this.keyv.get<StoredApp>(this.keys.app(appId));
    if (!stored) return;
    await this.primitives.raise(this.keys.deleted(appId), 1);
    await this.primitives.raise(this.keys.touched(appId), this.now());
    if (stored.threadId) {
      const threadKey = this.keys.thread(stored.threadId);
      if ((await this.keyv.get<string>(threadKey)) === appId) await this.keyv.delete(threadKey);
    }
  }

  async addVersion(
    appId: string,
    v: Omit<VersionRecord, 'appId' | 'number' | 'createdAt'>,
    opts: { expectLatest?: number } = {},
  ): Promise<VersionRecord> {
    const app = await this.getApp(appId);
    if (!app) throw new Error(`no app ${appId}`);
    if (app.deleted) throw new Error(`app ${appId} is deleted`);
    // The counter gives every caller its own number; the version key is then written by that caller alone.
    const number =
      opts.expectLatest === undefined
        ? await this.primitives.incr(this.keys.versionSeq(appId))
        : await this.nextAfter(appId, opts.expectLatest);
    const record: VersionRecord = { ...v, appId, number, createdAt: this.now() };
    await this.keyv.set(this.keys.version(appId, number), record);
    await Promise.all([
      this.primitives.raise(this.keys.latest(appId), number),
      this.primitives.raise(this.keys.touched(appId), record.createdAt),
    ]);
    return record;
  }

  /**
   * The number after `expected`, taken only if the app is still at `expected`. A number handed
   * out but never written (its writer crashed between taking it and writing: a gap, which
   * listVersions skips) would block every later writer, so once the latest version has stayed at
   * `expected` for GAP_MS (a live writer takes milliseconds), the gap is stepped over.
   */
  private async nextAfter(appId: string, expected: number): Promise<number> {
    const seqKey = this.keys.versionSeq(appId);
    const latestKey = this.keys.latest(appId);
    const taken = await this.primitives.casIncr(seqKey, expected);
    if (taken !== undefined) return taken;
    const deadline = this.now() + GAP_MS;
    for (;;) {
      const [seq = 0, latest = 0] = await this.primitives.read([seqKey, latestKey]);
      if (latest !== expected) throw new StaleVersionError(appId, expected, latest);
      if (this.now() >= deadline) {
        const skipped = await this.primitives.casIncr(seqKey, seq);
        if (skipped !== undefined) return skipped;
        const [now = 0] = await this.primitives.read([latestKey]);
        throw new StaleVersionError(appId, expected, now);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async getVersion(appId: string, number: number): Promise<VersionRecord | undefined> {
    if (!Number.isInteger(number) || number < 1) return undefined;
    return this.keyv.get<VersionRecord>(this.keys.version(appId, number));
  }

  async listVersions(appId: string, limit = DEFAULT_VERSION_LIMIT): Promise<VersionRecord[]> {
    const want = Math.max(0, Math.floor(limit));
    const [latest = 0] = await this.primitives.read([this.keys.latest(appId)]);
    const out: VersionRecord[] = [];
    // Numbers may have gaps (a writer that crashed after taking one), hence the loop.
    for (let n = latest; n >= 1 && out.length < want;) {
      const numbers: number[] = [];
      for (let i = 0; i < want - out.length && n >= 1; i++, n--) numbers.push(n);
      const versions = await this.keyv.getMany<VersionRecord>(numbers.map((k) => this.keys.version(appId, k)));
      for (const v of versions) if (v) out.push(v);
    }
    return out;
  }

  async appForThread(threadId: string): Promise<AppRecord | undefined> {
    const appId = await this.keyv.get<string>(this.keys.thread(threadId));
    if (appId === undefined) return undefined;
    const app = await this.getApp(appId);
    return app && !app.deleted && app.latestVersion > 0 ? app : undefined;
  }

  async setThread(threadId: string, appId: string): Promise<void> {
    await this.keyv.set(this.keys.thread(threadId), appId);
  }

  appsInChannel(channelId: string, pageSize: number, cursor?: string): Promise<Page<AppRecord>> {
    return this.index.page(this.keys.channelIndex(channelId), pageSize, cursor);
  }

  appsOfUser(userId: string, pageSize: number, cursor?: string): Promise<Page<AppRecord>> {
    return this.index.page(this.keys.userIndex(userId), pageSize, cursor);
  }

  firstSeen(key: string, ttlMs: number): Promise<boolean> {
    return this.primitives.claim(this.keys.seen(key), ttlMs);
  }

  tally(keys: string[], n: number, windowMs: number): Promise<number[]> {
    return Promise.all(keys.map((k) => this.primitives.addWindowed(this.keys.tally(k), n, windowMs)));
  }

  tallies(keys: string[]): Promise<number[]> {
    return this.primitives.readWindowed(keys.map((k) => this.keys.tally(k)));
  }

  async addManifest(m: BuildManifest): Promise<void> {
    await this.keyv.set(this.keys.manifest(m.appId, m.version), m);
    // Hashed names are content-addressed: an asset name always means the same bytes.
    const assets = Object.entries(m.files).filter(([path]) => path.startsWith('assets/'));
    await Promise.all(assets.map(([path, f]) => this.keyv.set(this.keys.publishedAsset(m.appId, path), f)));
    await this.primitives.raise(this.keys.published(m.appId), m.version);
  }

  async getManifest(appId: string, version: number): Promise<BuildManifest | undefined> {
    if (!Number.isInteger(version) || version < 1) return undefined;
    return this.keyv.get<BuildManifest>(this.keys.manifest(appId, version));
  }

  async getPublishedAsset(appId: string, path: string): Promise<PublishedFile | undefined> {
    return this.keyv.get<PublishedFile>(this.keys.publishedAsset(appId, path));
  }

  registerInstance(owner: string): Promise<void> {
    return this.instances.register(owner);
  }

  listInstances(): Promise<{ owner: string; heartbeat: number }[]> {
    return this.instances.list();
  }

  heartbeat(owner: string, at: number): Promise<void> {
    return this.instances.heartbeat(owner, at);
  }

  forgetInstance(owner: string): Promise<void> {
    return this.instances.forget(owner);
  }

  setBuilds(owner: string, builds: BuildRecord[]): Promise<void> {
    return this.instances.setBuilds(owner, builds);
  }

  getBuilds(owner: string): Promise<BuildRecord[]> {
    return this.instances.getBuilds(owner);
  }

  async putNote<T>(key: string, value: T, ttlMs: number): Promise<void> {
    await this.keyv.set(this.keys.note(key), value, ttlMs);
  }

  async getNote<T>(key: string): Promise<T | undefined> {
    return this.keyv.get<T>(this.keys.note(key));
  }

  async acquireLease(name: string, ttlMs: number): Promise<string | undefined> {
    // A fencing token: every lease ever taken has a larger one than the last.
    const token = String(await this.primitives.incr(this.keys.leaseSeq()));
    return (await this.primitives.lease(this.keys.lease(name), token, ttlMs)) ? token : undefined;
  }

  renewLease(name: string, token: string, ttlMs: number): Promise<boolean> {
    return this.primitives.renewLease(this.keys.lease(name), token, ttlMs);
  }

  releaseLease(name: string, token: string): Promise<void> {
    return this.primitives.releaseLease(this.keys.lease(name), token);
  }

  /** Deletes everything this store's namespace holds (tests and tear-down; never on a request path). */
  async destroyNamespace(): Promise<void> {
    await this.primitives.deletePrefix(this.keys.prefix);
  }

  async close(): Promise<void> {
    await this.bus.close?.();
    await this.primitives.close();
  }

  private loadApps(ids: string[]): Promise<(AppRecord | undefined)[]> {
    return loadAppRecords(this.keyv, this.primitives, this.keys, ids);
  }
}
