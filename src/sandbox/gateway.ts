import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { APP_ID_PATTERN } from '../core/ids.ts';
import { HostRouting } from './gateway-hosts.ts';
import type { GatewayDeps } from './gateway-deps.ts';
import { ClientLimits, defaultLimits } from './gateway-limits.ts';
import { page } from './gateway-page.ts';
import { proxyHttp, proxyUpgrade, refuseUpgrade } from './gateway-proxy.ts';
import { sameOrigin, ViewerReportRoute } from './viewer-report-route.ts';

export type { GatewayDeps } from './gateway-deps.ts';

const APP_PATH = new RegExp(`^/apps/(${APP_ID_PATTERN})(/|$)`);
/** An app path without its trailing slash: redirected to the one with it. */
const APP_ROOT_NO_SLASH = new RegExp(`^/apps/${APP_ID_PATTERN}$`);
/** Vite's dev-only endpoints that are no business of a viewer (the editor launcher runs a program). */
const BLOCKED = /\/__open-in-editor(\/|\?|$)|\/__inspect(\/|\?|$)/;
/** A client over its share of long-lived requests is asked to come back after this many seconds. */
const STREAM_RETRY_AFTER_S = '30';

/**
 * The stable address of every app: `/apps/<id>/…` is proxied (HTTP, and WebSocket on the
 * creator's `dev/` view so HMR works) to the app's sandbox, which is woken from the store if
 * it was stopped. Links in chat therefore never die with a sandbox. Everything a client
 * controls is bounded: connections and long-lived requests per client and per app, header and
 * upstream timeouts, the upgrade handshake; an upstream request ends when its client goes. The
 * creator's view answers only its own origin.
 */
export class AppGateway {
  private server?: http.Server;
  private sockets = new Set<net.Socket>();
  private readonly hosts: HostRouting;
  private readonly limits: ClientLimits;
  private readonly reports: ViewerReportRoute;

  constructor(private readonly deps: GatewayDeps) {
    this.hosts = new HostRouting(deps.allowedHosts, deps.appDomain);
    this.limits = new ClientLimits(
      { ...defaultLimits(deps.maxConnections ?? 1000), ...deps.limits },
      deps.trustedProxies,
    );
    this.reports = new ViewerReportRoute({
      logger: deps.logger,
      ...(deps.onViewerError ? { onViewerError: (id, r) => deps.onViewerError?.(id, r) } : {}),
      ...(deps.sandboxOrigin ? { sandboxOrigin: (id) => deps.sandboxOrigin!(id) } : {}),
      ...(deps.errorReportLimits ? { limits: deps.errorReportLimits } : {}),
      ...(deps.errorReportTimeoutMs ? { timeoutMs: deps.errorReportTimeoutMs } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
  }

  async listen(port: number, host: string): Promise<{ port: number; host: string }> {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    server.on('upgrade', (req, socket, head: Buffer) => void this.onUpgrade(req, socket as net.Socket, head));
    server.on('connection', (s: net.Socket) => {
      if (!this.limits.admit(s)) return void s.destroy(); // its client holds its share already
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

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.deps.onResponse) res.once('finish', () => this.deps.onResponse?.(res.statusCode));
    try {
      const onOwnOrigin = this.hosts.appOnHost(req) !== undefined;
      const url = this.hosts.inside(req);
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
      if (url.split('?')[0] === `/apps/${appId}/__vibe/errors`)
        return await this.reports.handle(req, res, appId, this.limits.clientOf(req), (origin) =>
          this.servesApp(origin, appId, req),
        );
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
      if (sub === '__vibe/events' && !this.holdStream(req, res, appId)) return;
      if (this.deps.published && sub !== 'dev' && !sub.startsWith('dev/'))
        return await this.deps.published.serve(req, res, appId, sub);
      // The sandbox's views answer their own origin only: another app's page may not read them.
      if (this.hosts.fromOtherOrigin(req))
        return void page(res, 403, 'Not available', "This app's live view answers only its own pages.");
      const origin = await this.resolveOrPage(appId, res);
      if (!origin) return;
      if (this.deps.redirect) {
        const rest = url.slice(`/apps/${appId}/`.length);
        return void res
          .writeHead(302, { location: `${origin.replace(/\/?$/, '/')}${rest}`, 'cache-control': 'no-store' })
          .end();
      }
      proxyHttp(req, res, origin, {
        timeoutMs: this.deps.upstreamTimeoutMs ?? 30_000,
        logger: this.deps.logger,
        appId,
      });
    } catch (err) {
      this.deps.logger.error({ err, url: req.url }, 'gateway: request failed');
      if (!res.headersSent) page(res, 500, 'Error', 'The request failed.');
      else res.destroy();
    }
  }

  /**
   * A place for a long-lived response (an event stream), held until it closes; false after
   * answering 429 when its client or app has no more (the connection is closed, not kept).
   */
  private holdStream(req: http.IncomingMessage, res: http.ServerResponse, appId: string): boolean {
    const release = this.limits.takeStream(req, appId);
    if (release) {
      res.once('close', release);
      return true;
    }
    page(res, 429, 'Too many open pages', 'Too many pages of this app are open from here. Close some and reload.', {
      'retry-after': STREAM_RETRY_AFTER_S,
      connection: 'close',
    });
    return false;
  }

  /**
   * Whether the gateway serves app `appId`'s pages at `origin`: its own origin where apps have
   * one, else (path links) the gateway's own, the one this request came to, which every app shares.
   */
  private servesApp(origin: string, appId: string, req: http.IncomingMessage): boolean {
    if (this.deps.appOrigin) return sameOrigin(origin, this.deps.appOrigin(appId));
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    const onHost = this.hosts.appOnHost(req);
    const served = onHost === undefined ? this.hosts.inside(req) !== undefined : onHost === appId;
    return served && host === (req.headers.host ?? '').toLowerCase();
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

  /**
   * Only a WebSocket to the creator's view (Vite's HMR), from a page of the app's own origin, is
   * upgraded; anything else is refused. It counts as a long-lived request of its client and app.
   */
  private async onUpgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const refuse = (status: string, extra?: string) => void refuseUpgrade(client, status, extra);
    /** A place for this socket among its client's and app's long-lived requests, or a 429. */
    const held = (key: string): boolean => {
      const release = this.limits.takeStream(req, key);
      if (release) client.once('close', release);
      else refuse('429 Too Many Requests', `Retry-After: ${STREAM_RETRY_AFTER_S}\r\n`);
      return release !== undefined;
    };
    try {
      const url = this.hosts.inside(req);
      if (url === undefined) return refuse(this.deps.appDomain ? '404 Not Found' : '421 Misdirected Request');
      // shared state: answered by the bot itself, for either view, on any host it accepts (the
      // handshake's Origin decides which pages may use it; see src/shared-state/server.ts).
      const shared = new RegExp(`^/apps/(${APP_ID_PATTERN})/__vibe/shared(\\?|$)`).exec(url);
      // Counted like any long-lived request of its client (the app's own cap is the shared server's).
      if (shared && this.deps.shared)
        return held(`shared:${shared[1]!}`) ? await this.deps.shared.upgrade(req, client, head, shared[1]!) : undefined;
      // On the gateway's own host, apps with origins of their own take no WebSocket.
      if (this.deps.appOrigin && this.hosts.appOnHost(req) === undefined) return refuse('404 Not Found');
      req.url = url;
      const m = APP_PATH.exec(url);
      if (!m || this.deps.redirect || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
        return refuse('404 Not Found');
      if (!url.startsWith(`/apps/${m[1]}/dev/`)) return refuse('404 Not Found');
      if (this.hosts.fromOtherOrigin(req)) return refuse('403 Forbidden');
      if (!held(m[1]!)) return;
      const origin = await this.deps.resolve(m[1]!).catch(() => undefined);
      if (!origin) return refuse('503 Service Unavailable');
      proxyUpgrade(req, client, head, origin, this.deps.upgradeTimeoutMs ?? 10_000);
    } catch (err) {
      this.deps.logger.warn({ err, url: req.url }, 'gateway: websocket to the app failed');
      client.destroy();
    }
  }
}
