import type http from 'node:http';
import type { AppRecord, AppStore, BuildManifest, Logger, PublishedFile } from '../core/ports/index.ts';
import { PublishBackoffError } from '../core/errors.ts';
import { page } from './gateway-page.ts';
import { VersionStreams, withReload } from './version-streams.ts';

export interface PublishedSiteDeps {
  store: Pick<AppStore, 'getApp' | 'getManifest' | 'getPublishedAsset' | 'blobs'>;
  /**
   * Publishes the app's newest version when it is not (an app stored before publishing, or
   * whose publish failed): the one case a view needs a sandbox. Throws RuntimeBusyError when
   * every slot is busy, PublishBackoffError while a failed publish is not tried again.
   */
  publishLatest(appId: string): Promise<BuildManifest | undefined>;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** Blob bytes kept in memory (default 64 MiB): blobs never change, so the cache is never stale. */
  cacheBytes?: number;
  /** How often open pages' apps are looked up for versions other processes published (default 10 s). */
  pollMs?: number;
  /** How long one event stream stays open (default 10 min, less up to a fifth): then the browser reconnects. */
  streamLifetimeMs?: number;
}

const PINNED = /^v\/(\d{1,9})(\/.*)?$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Paths that are files, never app routes: a miss is a 404, not the app's index.html. */
const FILE_LIKE = /^assets\/|\.(m?js|css|map|json|svg|png|jpe?g|gif|webp|ico|woff2?|txt)$/;
/** Manifest entries (files) kept in memory, over all cached manifests. */
const MANIFEST_ENTRIES_KEPT = 100_000;
/** A failed background publish of an app is not retried sooner than this. */
const REPUBLISH_AFTER_MS = 60_000;

/**
 * The light view of every app, served straight from the store: the app's newest published
 * build at `/`, version n at `/v/<n>/`, no sandbox involved. `index.html` is revalidated
 * (ETag) and carries a script that reloads the page when a newer version is published (an event
 * stream at `__vibe/events`); hashed assets are immutable. Paths arrive below the app's root.
 */
export class PublishedSite {
  private readonly blobs = new BlobCache();
  private readonly manifests = new Map<string, BuildManifest>();
  private manifestEntries = 0;
  private readonly streams: VersionStreams;
  private readonly republishing = new Map<string, number>();

  constructor(private readonly deps: PublishedSiteDeps) {
    this.blobs.budget = deps.cacheBytes ?? 64 << 20;
    this.streams = new VersionStreams(deps);
  }

  close(): void {
    this.streams.close();
  }

  /** A version was published (by this process; others' are polled): open pages of the app reload. */
  announce(appId: string, version: number): void {
    this.streams.announce(appId, version);
  }

  /** Answers `sub` (the path below the app's root, no leading slash, no query) of app `appId`. */
  async serve(req: http.IncomingMessage, res: http.ServerResponse, appId: string, sub: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' }).end();
    const app = await this.deps.store.getApp(appId);
    if (!app || app.deleted || app.latestVersion < 1)
      return page(res, 404, 'No such app', 'This app does not exist or was deleted.');
    if (sub === '__vibe/events') return this.streams.open(req, res, app);
    const pin = PINNED.exec(sub);
    if (pin && pin[2] === undefined) return void res.writeHead(302, { location: `${pin[1]}/` }).end();
    const manifest = pin ? await this.pinned(res, app, Number(pin[1])) : await this.latest(res, app);
    if (!manifest) return;
    let path: string;
    try {
      path = decodeURIComponent(pin ? pin[2]!.slice(1) : sub);
    } catch {
      return page(res, 400, 'Bad request', 'That address is not valid.');
    }
    // Own entries only: `constructor` or `__proto__` is a path like any other, not an Object's.
    let file = fileOf(manifest, path === '' ? 'index.html' : path);
    if (!file && path.startsWith('assets/')) file = await this.deps.store.getPublishedAsset(appId, path);
    if (!file && FILE_LIKE.test(path)) return void res.writeHead(404, textHeaders('not found')).end('not found');
    if (!file || path === '' || path === 'index.html') {
      const index = fileOf(manifest, 'index.html');
      if (!index) return page(res, 500, 'Broken build', 'This version has no page.');
      return this.sendIndex(req, res, app.id, manifest, index, pin !== null);
    }
    return this.sendFile(req, res, file, path.startsWith('assets/'));
  }

  private async latest(res: http.ServerResponse, app: AppRecord): Promise<BuildManifest | undefined> {
    if (app.publishedVersion) {
      if (app.publishedVersion < app.latestVersion) this.republish(app.id);
      const m = await this.manifest(app.id, app.publishedVersion);
      if (m) return m;
    }
    try {
      const m = await this.deps.publishLatest(app.id);
      if (m) return m;
      page(res, 503, 'App unavailable', 'This app has no build to show yet. Try again in a minute.');
    } catch (err) {
      if ((err as Error).name === 'RuntimeBusyError')
        page(res, 503, 'Busy', 'Every sandbox is busy building apps right now. This page retries by itself.', {
          'retry-after': '5',
          refresh: '5',
        });
      else if (err instanceof PublishBackoffError) {
        // It failed a moment ago (logged then): answered at once until the backoff has passed.
        const seconds = String(Math.ceil(err.retryAfterMs / 1000));
        page(res, 503, 'App unavailable', 'The app could not be built just now. This page retries by itself.', {
          'retry-after': seconds,
          refresh: seconds,
        });
      } else {
        this.deps.logger.error({ err, appId: app.id }, 'published site: the app could not be built');
        page(res, 503, 'App unavailable', 'The app could not be built. Try again in a minute.');
      }
    }
    return undefined;
  }

  private async pinned(res: http.ServerResponse, app: AppRecord, n: number): Promise<BuildManifest | undefined> {
    const m = n <= app.latestVersion ? await this.manifest(app.id, n) : undefined;
    if (!m) page(res, 404, 'No such version', `This app has no published version ${n}.`);
    return m;
  }

  /** A newer version exists but was not published (its publish failed): try again, in the background. */
  private republish(appId: string): void {
    const now = Date.now();
    if (now - (this.republishing.get(appId) ?? 0) < REPUBLISH_AFTER_MS) return;
    this.republishing.set(appId, now);
    this.deps
      .publishLatest(appId)
      .catch((err: unknown) => this.deps.logger.warn({ err, appId }, 'published site: republish failed'));
  }

  private async manifest(appId: string, n: number): Promise<BuildManifest | undefined> {
    const key = `${appId}:${n}`;
    const cached = this.manifests.get(key);
    if (cached) return cached;
    const m = await this.deps.store.getManifest(appId, n);
    if (!m) return undefined;
    // Bounded by entries, not by manifests: a manifest may list up to a few hundred files.
    this.manifests.set(key, m);
    this.manifestEntries += Object.keys(m.files).length;
    for (const [k, old] of this.manifests) {
      if (this.manifestEntries <= MANIFEST_ENTRIES_KEPT) break;
      this.manifests.delete(k);
      this.manifestEntries -= Object.keys(old.files).length;
    }
    return m;
  }

  private async blob(key: string): Promise<Uint8Array | undefined> {
    const hit = this.blobs.get(key);
    if (hit) return hit;
    const bytes = await this.deps.store.blobs.get(key);
    if (bytes) this.blobs.set(key, bytes);
    return bytes;
  }

  private async sendIndex(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    appId: string,
    m: BuildManifest,
    index: PublishedFile,
    pinned: boolean,
  ): Promise<void> {
    const etag = `"${index.hash.slice(0, 24)}-${m.version}${pinned ? 'p' : ''}"`;
    const headers = {
      etag,
      'cache-control': 'no-cache',
      'content-type': index.type,
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
    const bytes = await this.blob(index.hash);
    if (!bytes) return page(res, 500, 'Broken build', 'A file of this version is missing from the store.');
    // A pinned version stays what it is; the newest one follows new versions.
    const html = pinned
      ? Buffer.from(bytes)
      : withReload(Buffer.from(bytes), `/apps/${appId}/__vibe/events`, m.version);
    res.writeHead(200, { ...headers, 'content-length': String(html.length) });
    res.end(req.method === 'HEAD' ? undefined : html);
  }

  private async sendFile(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    file: PublishedFile,
    immutable: boolean,
  ): Promise<void> {
    const etag = `"${file.hash}"`;
    const headers: Record<string, string> = {
      etag,
      'cache-control': immutable ? IMMUTABLE : 'no-cache',
      'content-type': file.type,
      'x-content-type-options': 'nosniff',
      vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
    const encoding = pickEncoding(req.headers['accept-encoding'], file);
    const bytes = await this.blob(encoding ? `${file.hash}.${encoding === 'br' ? 'br' : 'gz'}` : file.hash);
    if (!bytes) return page(res, 500, 'Broken build', 'A file of this version is missing from the store.');
    if (encoding) headers['content-encoding'] = encoding;
    res.writeHead(200, { ...headers, 'content-length': String(bytes.length) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }
}

function fileOf(m: BuildManifest, path: string): PublishedFile | undefined {
  return Object.hasOwn(m.files, path) ? m.files[path] : undefined;
}

/** The stored variant the client takes (brotli before gzip), or undefined for the plain bytes. */
function pickEncoding(header: string | string[] | undefined, file: PublishedFile): 'br' | 'gzip' | undefined {
  const accepted = new Set(
    String(header ?? '')
      .split(',')
      .map((p) => p.trim().split(';'))
      .filter(([, q]) => !q || !/^q=0(\.0*)?$/.test(q.trim()))
      .map(([name]) => name!.trim().toLowerCase()),
  );
  if (file.br !== undefined && accepted.has('br')) return 'br';
  if (file.gz !== undefined && accepted.has('gzip')) return 'gzip';
  return undefined;
}

function textHeaders(body: string): Record<string, string> {
  return {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(body.length),
  };
}

/** Least recently used blobs go first once the byte budget is spent. */
class BlobCache {
  budget = 0;
  private bytes = 0;
  private readonly map = new Map<string, Uint8Array>();

  get(key: string): Uint8Array | undefined {
    const v = this.map.get(key);
    if (v) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: Uint8Array): void {
    if (v.length > this.budget / 4 || this.map.has(key)) return;
    this.map.set(key, v);
    this.bytes += v.length;
    for (const [k, old] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= old.length;
    }
  }
}
