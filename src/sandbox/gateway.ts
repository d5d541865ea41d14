import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { APP_ID_PATTERN } from '../core/ids.ts';
import type { Logger } from '../core/ports.ts';
import { page } from './gateway-page.ts';
import type { PublishedSite } from './published-site.ts';

export interface GatewayDeps {
  /**
   * The origin ("http://127.0.0.1:PORT") of the sandbox serving `appId`, booting or waking it
   * when needed; undefined when there is no such app. Throws RuntimeBusyError when every
   * sandbox slot is in use (the visitor is asked to retry).
   */
  resolve(appId: string): Promise<string | undefined>;
  logger: Pick<Logger, 'warn' | 'error'>;
  /**
   * Redirect to the sandbox instead of proxying (sandboxes with public URLs of their own, e.g.
   * Modal tunnels): the stable link wakes the app, then the browser goes straight to it.
   */
  redirect?: boolean;
  /**
   * Host names (no port) the gateway answers to; anything else gets 421. The gateway rewrites
   * Host for the sandbox, so this is what stops DNS rebinding. Default: the loopback names.
   */
  allowedHosts?: string[];
  /**
   * Apps on origins of their own (VIBE_APP_DOMAIN): the host name under which `<id>.<appDomain>`
   * is app `<id>` (no port), and that app's origin for redirects of path links. Unset: every app
   * lives under `/apps/<id>/` of the gateway's own host.
   */
  appDomain?: string;
  appOrigin?: (appId: string) => string;
  /**
   * Apps' light views served from their published builds in the store (no sandbox); unset, the
   * light view is proxied to the app's sandbox like the creator's view.
   */
  published?: Pick<PublishedSite, 'serve'>;
  /**
   * Shared state (`@vibe/shared`): the WebSocket at `/apps/<id>/__vibe/shared` is handed here,
   * on the light and live views alike, never to a sandbox (src/shared-state/server.ts).
   */
  shared?: { upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, appId: string): Promise<void> };
  /** Told the status of every response the gateway sends (metrics). */
  onResponse?: (status: number) => void;
  /** Most client connections open at once (default 1,000). */
  maxConnections?: number;
  /** How long a sandbox may take to send response headers, or to accept a WebSocket (default 30 s / 10 s). */
  upstreamTimeoutMs?: number;
  upgradeTimeoutMs?: number;
  /**
   * An uncaught error a viewer's browser hit in the app (`POST /apps/<id>/__vibe/errors`, sent
   * by the template's reporter script), already bounded and shape-checked. The id only matches
   * the app-id grammar: the app may not exist or be deleted (the callee checks). Never awaited.
   */
  onViewerError?(appId: string, report: { message: string; stack?: string }): void;
  /** Error reports accepted per app, and from everyone, per minute (default 20 and 300); then 429. */
  errorReportLimits?: { perApp: number; total: number };
  /** How long a report's body may take to arrive (default 5 s): a client trickling bytes is cut off. */
  errorReportTimeoutMs?: number;
  /** Clock of the report limits (tests). */
  now?: () => number;
}

/** Largest error report body (the reporter sends at most ~2.5 KB). */
export const MAX_ERROR_REPORT_BYTES = 4096;

const APP_PATH = new RegExp(`^/apps/(${APP_ID_PATTERN})(/|$)`);
const APP_ID_ONLY = new RegExp(`^${APP_ID_PATTERN}$`);
/** An app path without its trailing slash: redirected to the one with it. */
const APP_ROOT_NO_SLASH = new RegExp(`^/apps/${APP_ID_PATTERN}$`);
/** Vite's dev-only endpoints that are no business of a viewer (the editor launcher runs a program). */
const BLOCKED = /\/__open-in-editor(\/|\?|$)|\/__inspect(\/|\?|$)/;
/** Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection and are never forwarded. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** The request's Host without its port, lowercased ("[::1]" keeps its brackets). */
function hostName(req: http.IncomingMessage): string {
  const host = (req.headers.host ?? '').toLowerCase();
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
}

/**
 * The stable address of every app: `/apps/<id>/…` is proxied (HTTP, and WebSocket on the
 * creator's `dev/` view so HMR works) to the app's sandbox, which is woken from the store if
 * it was stopped. Links in chat therefore never die with a sandbox. Everything a client
 * controls is bounded: connections, header and upstream timeouts, the upgrade handshake; an
 * upstream request ends when its client goes.
 */
export class AppGateway {
  private server?: http.Server;
  private sockets = new Set<net.Socket>();
  private readonly allowedHosts: Set<string>;
  private readonly reportLimits: ReportLimits;

  constructor(private readonly deps: GatewayDeps) {
    this.allowedHosts = new Set([...LOOPBACK_HOSTS, ...(deps.allowedHosts ?? [])].map((h) => h.toLowerCase()));
    this.reportLimits = new ReportLimits(deps.errorReportLimits ?? { perApp: 20, total: 300 }, deps.now ?? Date.now);
  }

  async listen(port: number, host: string): Promise<{ port: number; host: string }> {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    server.on('upgrade', (req, socket, head: Buffer) => void this.onUpgrade(req, socket as net.Socket, head));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.maxConnections = this.deps.maxConnections ?? 1000;
    server.headersTimeout = 10_000; // a client must send its headers within this
    server.requestTimeout = 60_000; // ... and its whole request within this
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    return { port: addr.port, host };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Open client connections (tests watch it fall back after clients leave). */
  connectionCount(): number {
    return this.sockets.size;
  }

  private hostAllowed(req: http.IncomingMessage): boolean {
    return this.allowedHosts.has(hostName(req));
  }

  /** The app whose own origin the request is for (`<id>.<appDomain>`), if any. */
  private appOnHost(req: http.IncomingMessage): string | undefined {
    const domain = this.deps.appDomain;
    if (!domain) return undefined;
    const name = hostName(req);
    if (!name.endsWith(`.${domain}`)) return undefined;
    const label = name.slice(0, -domain.length - 1);
    return APP_ID_ONLY.test(label) ? label : undefined;
  }

  /**
   * A request as the rest of the gateway sees it: on an app's own origin its path is that app's
   * (`/x` is `/apps/<id>/x` inside; the app's own absolute `/apps/<id>/…` asset paths pass, and
   * any other app's path is nothing here), else as it came. Undefined: not ours to answer (404).
   */
  private inside(req: http.IncomingMessage): string | undefined {
    const url = req.url ?? '/';
    const appId = this.appOnHost(req);
    if (!appId) return this.hostAllowed(req) ? url : undefined;
    if (url === `/apps/${appId}` || url.startsWith(`/apps/${appId}/`) || url.startsWith(`/apps/${appId}?`)) return url;
    if (url === '/apps' || url.startsWith('/apps/')) return undefined;
    return `/apps/${appId}${url.startsWith('/') ? url : `/${url}`}`;
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.deps.onResponse) res.once('finish', () => this.deps.onResponse?.(res.statusCode));
    try {
      const onOwnOrigin = this.appOnHost(req) !== undefined;
      const url = this.inside(req);
      if (url === undefined)
        return this.deps.appDomain
          ? void page(res, 404, 'Not found', 'There is no app here.')
          : void page(res, 421, 'Unknown host', 'This server does not answer to that host name.');
      req.url = url;
      if (APP_ROOT_NO_SLASH.test(url)) return void res.writeHead(302, { location: `${url}/` }).end();
      const m = APP_PATH.exec(url);
      if (!m)
        return void page(res, 404, 'vibe-bot', 'Apps live under /apps/&lt;id&gt;/. Ask the bot for a link with /vibe.');
      if (BLOCKED.test(url.split('?')[0]!))
        return void page(res, 403, 'Not available', 'This development endpoint is not served.');
      const appId = m[1]!;
      // Answered here, in proxy and redirect mode alike: never sent to the sandbox, never wakes it.
      if (url.split('?')[0] === `/apps/${appId}/__vibe/errors`) return this.viewerError(req, res, appId);
      // shared state: a WebSocket only (see onUpgrade).
      if (url.split('?')[0] === `/apps/${appId}/__vibe/shared`)
        return void res.writeHead(426, { upgrade: 'websocket', 'content-length': '0' }).end();
      // A path link on the gateway's own host, where apps have origins of their own: go there.
      if (!onOwnOrigin && this.deps.appOrigin)
        return void res
          .writeHead(302, {
            location: `${this.deps.appOrigin(appId)}/${url.slice(`/apps/${appId}/`.length)}`,
            'cache-control': 'no-store',
          })
          .end();
      const sub = url.split('?')[0]!.slice(`/apps/${appId}/`.length);
      if (this.deps.published && sub !== 'dev' && !sub.startsWith('dev/'))
        return await this.deps.published.serve(req, res, appId, sub);
      const origin = await this.resolveOrPage(appId, res);
      if (!origin) return;
      if (this.deps.redirect) {
        const rest = url.slice(`/apps/${appId}/`.length);
        return void res
          .writeHead(302, { location: `${origin.replace(/\/?$/, '/')}${rest}`, 'cache-control': 'no-store' })
          .end();
      }
      this.proxy(req, res, origin, appId);
    } catch (err) {
      this.deps.logger.error({ err, url: req.url }, 'gateway: request failed');
      if (!res.headersSent) page(res, 500, 'Error', 'The request failed.');
      else res.destroy();
    }
  }

  /**
   * `POST /apps/<id>/__vibe/errors`: `{ message, stack? }` as text/plain JSON, at most
   * MAX_ERROR_REPORT_BYTES, within `errorReportTimeoutMs`, under the per-app and overall limits
   * (counted before the body is read, so a flood costs little). 204 once handed on.
   */
  private viewerError(req: http.IncomingMessage, res: http.ServerResponse, appId: string): void {
    const answer = (status: number, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'cache-control': 'no-store', 'content-length': '0', ...headers }).end();
    };
    // A body left unread: answer, then close the connection rather than read the rest.
    const refuse = (status: number, headers: Record<string, string> = {}) => {
      answer(status, { connection: 'close', ...headers });
      req.resume();
    };
    if (req.method !== 'POST') return refuse(405, { allow: 'POST' });
    if (!this.reportLimits.take(appId)) return refuse(429, { 'retry-after': '60' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_ERROR_REPORT_BYTES) return refuse(413);
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      answer(408, { connection: 'close' });
      req.destroy();
    }, this.deps.errorReportTimeoutMs ?? 5_000);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ERROR_REPORT_BYTES) return void chunks.push(chunk);
      clearTimeout(timer);
      answer(413, { connection: 'close' });
      req.destroy();
    });
    req.on('error', () => clearTimeout(timer));
    req.on('close', () => clearTimeout(timer));
    req.on('end', () => {
      clearTimeout(timer);
      if (res.headersSent) return;
      const report = parseErrorReport(Buffer.concat(chunks).toString('utf8'));
      if (!report) return answer(400);
      answer(204);
      try {
        this.deps.onViewerError?.(appId, report);
      } catch (err) {
        this.deps.logger.warn({ err, appId }, 'gateway: a viewer error report was not handled');
      }
    });
  }

  /** The sandbox's origin, or undefined after answering the client (404, 503 busy, 503 failed). */
  private async resolveOrPage(appId: string, res: http.ServerResponse): Promise<string | undefined> {
    try {
      const origin = await this.deps.resolve(appId);
      if (!origin) page(res, 404, 'No such app', 'This app does not exist or was deleted.');
      return origin;
    } catch (err) {
      if ((err as Error).name === 'RuntimeBusyError') {
        page(
          res,
          503,
          'Busy',
          'Every sandbox is busy building apps right now. This page retries by itself in a few seconds.',
          { 'retry-after': '5', refresh: '5' },
        );
        return undefined;
      }
      this.deps.logger.error({ err, appId }, 'gateway: could not start the app');
      page(res, 503, 'App unavailable', 'The app could not be started. Try again in a minute.');
      return undefined;
    }
  }

  private proxy(req: http.IncomingMessage, res: http.ServerResponse, origin: string, appId: string): void {
    const headers = forwardHeaders(req.headers);
    headers.host = new URL(origin).host;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const upstream = http.request(origin + (req.url ?? '/'), { method: req.method, headers }, (up) => {
      upstream.setTimeout(0); // headers arrived: a long response (an event stream) may idle
      res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.setTimeout(this.deps.upstreamTimeoutMs ?? 30_000, () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', (err) => {
      if (res.destroyed) return; // the client left first
      this.deps.logger.warn({ err, appId }, 'gateway: sandbox did not answer');
      if (!res.headersSent) page(res, 502, 'App restarting', "The app's sandbox did not answer. Reload in a moment.");
      else res.destroy();
    });
    // The client went away (closed the tab, left an event stream): so does the upstream request.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** Only a WebSocket to the creator's view (Vite's HMR) is upgraded; anything else is refused. */
  private async onUpgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const refuse = (status: string) =>
      client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    try {
      const url = this.inside(req);
      if (url === undefined) return void refuse(this.deps.appDomain ? '404 Not Found' : '421 Misdirected Request');
      // shared state: answered by the bot itself, for either view, on any host it accepts (the
      // handshake's Origin decides which pages may use it; see src/shared-state/server.ts).
      const shared = new RegExp(`^/apps/(${APP_ID_PATTERN})/__vibe/shared(\\?|$)`).exec(url);
      if (shared && this.deps.shared) return await this.deps.shared.upgrade(req, client, head, shared[1]!);
      // On the gateway's own host, apps with origins of their own take no WebSocket.
      if (this.deps.appOrigin && this.appOnHost(req) === undefined) return void refuse('404 Not Found');
      req.url = url;
      const m = APP_PATH.exec(url);
      if (!m || this.deps.redirect || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
        return void refuse('404 Not Found');
      if (!(req.url ?? '').startsWith(`/apps/${m[1]}/dev/`)) return void refuse('404 Not Found');
      const origin = await this.deps.resolve(m[1]!).catch(() => undefined);
      if (!origin) return void refuse('503 Service Unavailable');
      const headers = forwardHeaders(req.headers);
      headers.host = new URL(origin).host;
      headers.connection = 'Upgrade';
      headers.upgrade = 'websocket';
      // Its own connection (no agent): it becomes the WebSocket, or it is closed.
      const upstream = http.request(origin + req.url, { method: 'GET', headers, agent: false });
      let upSocket: net.Socket | undefined;
      upstream.on('socket', (s) => (upSocket = s));
      const hangUp = () => {
        upstream.destroy();
        upSocket?.destroy();
      };
      const timer = setTimeout(() => {
        hangUp();
        client.destroy();
      }, this.deps.upgradeTimeoutMs ?? 10_000);
      client.on('close', hangUp);
      upstream.on('upgrade', (upRes, ws: net.Socket, upHead) => {
        clearTimeout(timer);
        const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
        for (let i = 0; i < upRes.rawHeaders.length; i += 2)
          lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
        client.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (upHead.length > 0) client.write(upHead);
        if (head.length > 0) ws.write(head);
        ws.on('error', () => client.destroy());
        client.on('close', () => ws.destroy());
        ws.on('close', () => client.destroy());
        ws.pipe(client).pipe(ws);
      });
      upstream.on('response', (upRes) => {
        clearTimeout(timer);
        upRes.resume();
        refuse(`${upRes.statusCode ?? 502} ${upRes.statusMessage ?? 'Bad Gateway'}`);
      });
      upstream.on('error', () => {
        clearTimeout(timer);
        client.destroy();
      });
      upstream.end();
    } catch (err) {
      this.deps.logger.warn({ err, url: req.url }, 'gateway: websocket to the app failed');
      client.destroy();
    }
  }
}

/** `{ message: string, stack?: string }` and nothing else, or undefined. */
function parseErrorReport(body: string): { message: string; stack?: string } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const { message, stack, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof message !== 'string' || message.trim() === '') return undefined;
  if (stack !== undefined && typeof stack !== 'string') return undefined;
  return stack ? { message, stack } : { message };
}

/**
 * Fixed one-minute windows: at most `perApp` reports per app id and `total` in all. The overall
 * count is checked first, so the per-app map holds at most `total` ids.
 */
class ReportLimits {
  private window = -1;
  private total = 0;
  private readonly perApp = new Map<string, number>();

  constructor(
    private readonly limits: { perApp: number; total: number },
    private readonly now: () => number,
  ) {}

  take(appId: string): boolean {
    const window = Math.floor(this.now() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.total = 0;
      this.perApp.clear();
    }
    const n = this.perApp.get(appId) ?? 0;
    if (this.total >= this.limits.total || n >= this.limits.perApp) return false;
    this.total++;
    this.perApp.set(appId, n + 1);
    return true;
  }
}

/** Headers minus the hop-by-hop ones (and any the Connection header names). */
function forwardHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = String(h.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined && !HOP_BY_HOP.includes(k) && !named.includes(k)) out[k] = v;
  return out;
}
