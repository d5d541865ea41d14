import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { AppRuntime } from './app-runtime.ts';
import type { AppStore, BuildManifest, Logger, PublishedFile, VersionRecord } from '../ports/index.ts';
import { PublishBackoffError } from '../errors.ts';
import { FailureBackoff } from './failure-backoff.ts';
import { sourceHash } from './source-hash.ts';
import { contentType, isCompressible } from './web-types.ts';

/** Smaller files are sent as they are. */
const MIN_COMPRESS_BYTES = 512;
/** Largest build published (a small app is under 1 MiB, the shared libraries included). */
const MAX_PUBLISHED_BYTES = 8 << 20;
/**
 * Most files, and longest path, a published version may list: a manifest is kept for good and
 * cached by every process that serves it (Vite writes a few dozen `assets/<name>-<hash>.js`).
 */
const MAX_PUBLISHED_FILES = 300;
const MAX_PUBLISHED_PATH_BYTES = 200;
/** Compression runs on libuv's thread pool, never on the event loop the gateway serves from. */
const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
/** Compressed variants already worked out for blobs this process has seen (bounded). */
const KNOWN_BLOBS = 20_000;

/**
 * Publishes versions: the production build the sandbox already made for the light view is taken
 * out once, each file stored as a content-addressed blob (with brotli and gzip variants) and the
 * version as a manifest, so viewers are served from the store and never need a sandbox. Files
 * shared by apps and versions (the React, recharts and lucide chunks) are stored once.
 */
export class Publisher {
  private readonly listeners = new Set<(appId: string, version: number) => void>();
  private readonly inflight = new Map<string, Promise<BuildManifest | undefined>>();
  /** Blob hash -> sizes of its stored compressed variants (a stored blob's variants were stored before it). */
  private readonly known = new Map<string, Pick<PublishedFile, 'br' | 'gz'>>();
  /** Apps whose publish on first view failed: not tried again before their backoff has passed. */
  private readonly backoff: FailureBackoff;

  constructor(
    private readonly deps: {
      store: AppStore;
      runtime: AppRuntime;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.backoff = new FailureBackoff({ firstMs: 5_000, maxMs: 5 * 60_000, now: () => (deps.now ?? Date.now)() });
  }

  /** Told of every version this process publishes (the gateway reloads open viewer pages). */
  onPublished(listener: (appId: string, version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Publishes `version`, which the app's running sandbox serves now (the caller holds it), or,
   * for a restore of a published version, copies that version's manifest. Undefined where the
   * sandbox provider cannot hand over builds.
   */
  async publish(appId: string, version: VersionRecord): Promise<BuildManifest | undefined> {
    const { store, runtime } = this.deps;
    const source = sourceHash(version.files);
    const copied = version.basedOn ? await store.getManifest(appId, version.basedOn) : undefined;
    if (copied && copied.source === source) return this.store({ ...copied, version: version.number });
    if (!runtime.canPublish) return undefined;
    const started = Date.now();
    // The build the browser check opened (fetched once), less its source maps: they are the bot's alone.
    const built = withoutSourceMaps(await runtime.lightBuild(appId, source));
    const fetchedMs = Date.now() - started;
    // Stored for good (blobs are shared, never deleted): a build the app's code blew up is refused.
    const size = [...built.values()].reduce((n, b) => n + b.length, 0);
    if (size > MAX_PUBLISHED_BYTES)
      throw new Error(
        `the build is ${(size / 2 ** 20).toFixed(1)} MiB, over the ${MAX_PUBLISHED_BYTES / 2 ** 20} MiB a published version may have`,
      );
    if (built.size > MAX_PUBLISHED_FILES)
      throw new Error(
        `the build has ${built.size} files, over the ${MAX_PUBLISHED_FILES} a published version may list`,
      );
    const long = [...built.keys()].find((p) => Buffer.byteLength(p) > MAX_PUBLISHED_PATH_BYTES);
    if (long)
      throw new Error(`the build has a file path over ${MAX_PUBLISHED_PATH_BYTES} bytes (${long.slice(0, 60)}…)`);
    const entries: [string, PublishedFile][] = [];
    let added = 0;
    for (const [path, bytes] of built) {
      const { file, newBytes } = await this.putFile(path, bytes);
      entries.push([path, file]);
      added += newBytes;
    }
    // Own properties only (a path named `__proto__` is a file like any other).
    const files = Object.fromEntries(entries);
    const manifest = await this.store({ appId, version: version.number, source, files, publishedAt: 0 });
    this.deps.logger.info(
      { appId, version: version.number, files: built.size, newBytes: added, fetchedMs, ms: Date.now() - started },
      'version published',
    );
    return manifest;
  }

  /**
   * Publishes the app's newest version unless it is published already (apps stored before
   * publishing, or whose publish failed): wakes its sandbox from the store for it, refusing with
   * RuntimeBusyError when every slot is busy. Viewers' page loads call it, so however many come:
   * one publish per app at a time (callers share it), run through `line` (where it cannot race a
   * change to the app) once, not once per caller; after a failure none until a backoff has passed
   * (PublishBackoffError meanwhile). A busy runtime is no failure of the app's: no backoff.
   */
  publishLatest(
    appId: string,
    line: (task: () => Promise<BuildManifest | undefined>) => Promise<BuildManifest | undefined> = (task) => task(),
  ): Promise<BuildManifest | undefined> {
    let p = this.inflight.get(appId);
    if (p) return p;
    const wait = this.backoff.waitMs(appId);
    if (wait > 0) return Promise.reject(new PublishBackoffError(appId, wait));
    p = line(() => this.publishLatestOnce(appId))
      .then(
        (m) => (this.backoff.succeeded(appId), m),
        (err: unknown) => {
          if ((err as Error).name !== 'RuntimeBusyError') {
            this.backoff.failed(appId);
            this.deps.logger.warn(
              { err, appId, retryInMs: this.backoff.waitMs(appId) },
              'publishing on first view failed; not tried again before the backoff',
            );
          }
          throw err;
        },
      )
      .finally(() => this.inflight.delete(appId));
    this.inflight.set(appId, p);
    return p;
  }

  private async publishLatestOnce(appId: string): Promise<BuildManifest | undefined> {
    const { store, runtime } = this.deps;
    const app = await store.getApp(appId);
    if (!app || app.deleted || app.latestVersion < 1) return undefined;
    if (app.publishedVersion === app.latestVersion) return store.getManifest(appId, app.latestVersion);
    const version = await store.getVersion(appId, app.latestVersion);
    if (!version) throw new Error(`app ${appId} lacks version ${app.latestVersion}`);
    return runtime.pinned(appId, async () => {
      await runtime.ensure(appId, { wait: false });
      return this.publish(appId, version);
    });
  }

  private async store(m: BuildManifest): Promise<BuildManifest> {
    const manifest = { ...m, publishedAt: (this.deps.now ?? Date.now)() };
    await this.deps.store.addManifest(manifest);
    for (const listener of this.listeners) listener(manifest.appId, manifest.version);
    return manifest;
  }

  /** One built file as blobs: its compressed variants first, then itself (so a stored blob's variants are there). */
  private async putFile(path: string, bytes: Uint8Array): Promise<{ file: PublishedFile; newBytes: number }> {
    const { blobs } = this.deps.store;
    const type = contentType(path);
    const hash = createHash('sha256').update(bytes).digest('hex');
    const known = this.known.get(hash);
    if (known) return { file: { hash, type, size: bytes.length, ...known }, newBytes: 0 };
    const variants: Pick<PublishedFile, 'br' | 'gz'> = {};
    let newBytes = 0;
    if (isCompressible(type) && bytes.length >= MIN_COMPRESS_BYTES) {
      const [br, gz] = await Promise.all([
        brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: bytes.length <= 64 * 1024 ? 11 : 9 } }),
        gzipAsync(bytes, { level: 9 }),
      ]);
      // A variant is stored only where it saves something worth a header.
      if (br.length < bytes.length * 0.9) {
        variants.br = br.length;
        if (await blobs.put(`${hash}.br`, br)) newBytes += br.length;
      }
      if (gz.length < bytes.length * 0.9) {
        variants.gz = gz.length;
        if (await blobs.put(`${hash}.gz`, gz)) newBytes += gz.length;
      }
    }
    if (await blobs.put(hash, bytes)) newBytes += bytes.length;
    if (this.known.size >= KNOWN_BLOBS) this.known.delete(this.known.keys().next().value!);
    this.known.set(hash, variants);
    return { file: { hash, type, size: bytes.length, ...variants }, newBytes };
  }
}

/** A build's files but its `.map` files. */
function withoutSourceMaps(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  return new Map([...files].filter(([path]) => !path.endsWith('.map')));
}
