import type http from 'node:http';
import type { AppRecord, AppStore, Logger } from '../core/ports/index.ts';

/** After a stream's lifetime, the browser reconnects after this long (ms). */
const RECONNECT_MS = 2000;

/**
 * The version streams of open pages (`__vibe/events`, server-sent events): each says the newest
 * published version when it opens and each newer one, announced here or polled from the store
 * (published by another bot process). The page's script (withReload) reloads on a new one.
 */
export class VersionStreams {
  private readonly streams = new Map<string, Set<http.ServerResponse>>();
  private readonly announced = new Map<string, number>();
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly deps: {
      store: Pick<AppStore, 'getApp'>;
      logger: Pick<Logger, 'warn'>;
      /** How often open pages' apps are looked up (default 10 s). */
      pollMs?: number;
      /** How long one stream stays open (default 10 min, less up to a fifth). */
      streamLifetimeMs?: number;
    },
  ) {
    this.poller = setInterval(() => void this.poll(), deps.pollMs ?? 10_000);
    this.poller.unref();
  }

  close(): void {
    clearInterval(this.poller);
    for (const set of this.streams.values()) for (const res of set) res.end();
    this.streams.clear();
  }

  /** The version stream of an open page: the newest published version now, and each new one. */
  open(req: http.IncomingMessage, res: http.ServerResponse, app: AppRecord): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    if (app.publishedVersion) res.write(`event: version\ndata: ${app.publishedVersion}\n\n`);
    if (!this.announced.has(app.id)) this.announced.set(app.id, app.publishedVersion ?? 0);
    let set = this.streams.get(app.id);
    if (!set) this.streams.set(app.id, (set = new Set()));
    set.add(res);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    keepAlive.unref();
    // No stream holds its place for good: at its lifetime (spread, so pages opened together do
    // not come back together) it ends with the reconnect delay, and the browser comes back.
    const lifetime = (this.deps.streamLifetimeMs ?? 600_000) * (1 - Math.random() / 5);
    const end = setTimeout(() => res.end(`retry: ${RECONNECT_MS}\n\n`), lifetime);
    end.unref();
    req.on('close', () => {
      clearInterval(keepAlive);
      clearTimeout(end);
      set.delete(res);
      if (set.size === 0 && this.streams.get(app.id) === set) {
        this.streams.delete(app.id);
        this.announced.delete(app.id);
      }
    });
  }

  /** A version was published (by this process; others' are polled): open pages of the app reload. */
  announce(appId: string, version: number): void {
    const set = this.streams.get(appId);
    if (!set || (this.announced.get(appId) ?? 0) >= version) return;
    this.announced.set(appId, version);
    for (const res of set) res.write(`event: version\ndata: ${version}\n\n`);
  }

  /** Versions published by other bot processes reach open pages too, a little later. */
  private async poll(): Promise<void> {
    for (const appId of [...this.streams.keys()]) {
      try {
        const app = await this.deps.store.getApp(appId);
        if (app?.publishedVersion) this.announce(appId, app.publishedVersion);
      } catch (err) {
        this.deps.logger.warn({ err, appId }, 'published site: version poll failed');
      }
    }
  }
}

/** The page reloads when the stream names a version other than its own. */
export function withReload(html: Buffer, eventsUrl: string, version: number): Buffer {
  const script = `<script>(function(){var s=new EventSource(${JSON.stringify(eventsUrl)});s.addEventListener("version",function(e){if(e.data!==${JSON.stringify(String(version))}){s.close();location.reload();}});})();</script>`;
  const text = html.toString('utf8');
  return Buffer.from(text.includes('</head>') ? text.replace('</head>', `${script}</head>`) : script + text);
}
