import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { compress, pickEncoding, type Encoding } from './encoding.ts';
import { reloadScript, startingPage } from './starting-page.ts';
import { contentType, isCompressible } from './web-types.ts';

interface Served {
  body: Buffer;
  type: string;
  /** Compressed bodies, made once per build (brotli) or on first demand (gzip). */
  encoded: Partial<Record<Encoding, Promise<Buffer>>>;
  immutable: boolean;
}

interface Build {
  version: string;
  files: Map<string, Served>;
}

/** The newest build as the build wrote it, and the source hash it was built from: the bot's. */
interface Raw {
  source: string;
  files: { path: string; body: Buffer }[];
}

/** How long the bot's request for the build of a given source may wait for it. */
const BUILD_WAIT_MS = 60_000;
/** How often a waiting request asks whether the builder has stalled (see `onStall`). */
const STALL_CHECK_MS = 1_000;

/**
 * The latest production build, held in memory and swapped in one assignment, so a request sees
 * either the old build or the new one, never a mix or an empty folder. Hashed assets of the
 * previous build stay servable, so a page loaded just before a swap still gets its chunks.
 */
export class LightSite {
  private current?: Build;
  private latest?: Raw;
  private readonly listeners = new Set<ServerResponse>();
  /** The last build that failed, and the bot's requests waiting for a build of some source. */
  private failure?: { source: string; message: string };
  private readonly waiting = new Set<() => void>();
  private readonly starting: Buffer;
  /**
   * Asked every second while the bot waits for the build of `source`: the builder may have
   * missed the write (a file watcher can lose an event that comes as it re-arms after a build).
   */
  onStall?: (source: string) => void;

  constructor(
    /** Where the light view lives, e.g. `/apps/<id>/` or `/`. */
    private readonly base: string,
    private readonly brotliQuality = 9,
    /** How bodies are compressed (tests count the calls). */
    private readonly squeeze: typeof compress = compress,
  ) {
    this.starting = Buffer.from(startingPage(this.eventsUrl));
  }

  get eventsUrl(): string {
    return `${this.base}__vibe/events`;
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  /**
   * Swaps in a finished build; returns its version (a hash of its index.html). The bot waiting
   * for it gets it at once; viewers get it once its files are compressed. Compressed bodies of
   * hashed assets the current build has byte for byte (the libraries' chunks) are kept, not made again.
   */
  async publish(files: { path: string; body: Buffer }[], source = ''): Promise<string> {
    const html = files.find((f) => f.path === 'index.html');
    if (!html) throw new Error('build has no index.html');
    this.latest = { source, files };
    this.wake();
    const version = createHash('sha256').update(html.body).digest('hex').slice(0, 12);
    if (version === this.current?.version) return version;
    const next = new Map<string, Served>();
    for (const [path, old] of this.current?.files ?? []) if (old.immutable) next.set(path, old);
    const pending: Promise<Buffer>[] = [];
    for (const f of files) {
      if (f.path.endsWith('.map')) continue; // the bot's alone: handed over in `latest`, never served
      const kept = next.get(f.path);
      if (kept?.immutable && kept.body.equals(f.body)) continue;
      const body = f.path === 'index.html' ? this.injectReload(f.body, version) : f.body;
      const type = contentType(f.path);
      const served: Served = { body, type, encoded: {}, immutable: f.path.startsWith('assets/') };
      if (isCompressible(type) && body.length >= 512)
        pending.push((served.encoded.br = this.squeeze(body, 'br', this.brotliQuality)));
      next.set(f.path, served);
    }
    // Compressed before the swap, so the first viewers after a reload get small files at once.
    await Promise.all(pending);
    this.current = { version, files: next };
    for (const res of this.listeners) res.write(`event: version\ndata: ${version}\n\n`);
    return version;
  }

  /** A build from `source` failed (the bot waiting for it is told so). */
  failed(source: string, message: string): void {
    this.failure = { source, message };
    this.wake();
  }

  /** Answers `sub` (the path below the base, no leading slash). */
  async serve(req: IncomingMessage, res: ServerResponse, sub: string): Promise<void> {
    if (sub === '__vibe/events') return this.events(req, res);
    if (sub === '__vibe/build') return this.build(req, res);
    if (sub === '__vibe/version')
      return this.send(
        req,
        res,
        200,
        'application/json',
        Buffer.from(JSON.stringify({ version: this.version ?? null })),
        'no-store',
      );
    const build = this.current;
    if (!build) return this.send(req, res, 200, 'text/html; charset=utf-8', this.starting, 'no-store');
    let file = build.files.get(sub === '' ? 'index.html' : decodeURIComponent(sub));
    // SPA fallback: unknown routes get the app; a missing script or asset stays a 404.
    if (!file && (sub.startsWith('assets/') || /\.(m?js|css|map)$/.test(sub)))
      return this.send(req, res, 404, 'text/plain; charset=utf-8', Buffer.from('not found'), 'no-store');
    file ??= build.files.get('index.html')!;
    const cache = file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
    const encoding =
      isCompressible(file.type) && file.body.length >= 512 ? pickEncoding(req.headers['accept-encoding']) : undefined;
    if (encoding) {
      const body = await (file.encoded[encoding] ??= this.squeeze(file.body, encoding, this.brotliQuality));
      res.setHeader('Content-Encoding', encoding);
      res.setHeader('Vary', 'Accept-Encoding');
      return this.send(req, res, 200, file.type, body, cache);
    }
    res.setHeader('Vary', 'Accept-Encoding');
    return this.send(req, res, 200, file.type, file.body, cache);
  }

  /**
   * `__vibe/build?source=<hash>`, for the bot publishing a version: the build of exactly that
   * source as it was written (no reload script), as base64 of gzipped JSON `{ path: base64 }`,
   * once it is made (waiting up to a minute); 422 with the message when that build failed.
   */
  private build(req: IncomingMessage, res: ServerResponse): void {
    const source = new URL(req.url ?? '/', 'http://x').searchParams.get('source') ?? '';
    const answer = (): boolean => {
      if (this.latest?.source === source) {
        const files = Object.fromEntries(this.latest.files.map((f) => [f.path, f.body.toString('base64')]));
        const body = Buffer.from(gzipSync(JSON.stringify(files), { level: 1 }).toString('base64'));
        this.send(req, res, 200, 'text/plain; charset=utf-8', body, 'no-store');
        return true;
      }
      if (this.failure?.source === source) {
        this.send(req, res, 422, 'text/plain; charset=utf-8', Buffer.from(this.failure.message), 'no-store');
        return true;
      }
      return false;
    };
    if (answer()) return;
    const done = () => {
      clearTimeout(timer);
      clearInterval(stall);
      this.waiting.delete(check);
    };
    const check = () => {
      if (answer()) done();
    };
    const timer = setTimeout(() => {
      done();
      this.send(req, res, 504, 'text/plain; charset=utf-8', Buffer.from('no build of that source yet'), 'no-store');
    }, BUILD_WAIT_MS);
    const stall = setInterval(() => this.onStall?.(source), STALL_CHECK_MS);
    this.waiting.add(check);
    req.on('close', done);
  }

  private wake(): void {
    for (const check of [...this.waiting]) check();
  }

  /** Ends the open event streams (the server is closing). */
  close(): void {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    body: Buffer,
    cache: string,
  ): void {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', body.length);
    res.setHeader('Cache-Control', cache);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Server-sent events, never compressed: the current version now, each new one as it lands. */
  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.write(`retry: 500\n\n`);
    if (this.current) res.write(`event: version\ndata: ${this.current.version}\n\n`);
    this.listeners.add(res);
    // Tunnels close idle connections: a comment every 20 s keeps the stream open.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    keepAlive.unref();
    req.on('close', () => {
      clearInterval(keepAlive);
      this.listeners.delete(res);
    });
  }

  private injectReload(html: Buffer, version: string): Buffer {
    const text = html.toString('utf8');
    const script = reloadScript(this.eventsUrl, version);
    return Buffer.from(text.includes('</head>') ? text.replace('</head>', `${script}</head>`) : script + text);
  }
}
