import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface GatewayDeps {
  /**
   * The origin ("http://127.0.0.1:PORT") of the sandbox serving `appId`, booting or waking it
   * when needed; undefined when there is no such app.
   */
  resolve(appId: string): Promise<string | undefined>;
  logger: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  /**
   * Redirect to the sandbox instead of proxying (sandboxes with public URLs of their own, e.g.
   * Modal tunnels): the stable link wakes the app, then the browser goes straight to it.
   */
  redirect?: boolean;
}

const APP_PATH = /^\/apps\/([a-z0-9]{6,32})(\/|$)/;

/**
 * The stable address of every app: `/apps/<id>/…` is proxied (HTTP and WebSocket, so HMR
 * works) to the app's sandbox, which is woken from the store if it was stopped. Links in
 * chat therefore never die with a sandbox.
 */
export class AppGateway {
  private server?: http.Server;
  private sockets = new Set<net.Socket>();

  constructor(private readonly deps: GatewayDeps) {}

  async listen(port: number, host: string): Promise<{ port: number; host: string }> {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    server.on('upgrade', (req, socket, head: Buffer) => void this.onUpgrade(req, socket as net.Socket, head));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
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

  private async target(url: string | undefined): Promise<{ origin?: string; appId?: string }> {
    const m = APP_PATH.exec(url ?? '');
    if (!m) return {};
    return { appId: m[1], origin: await this.deps.resolve(m[1]!) };
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = req.url ?? '/';
      if (/^\/apps\/[a-z0-9]+$/.test(url)) return void res.writeHead(302, { location: `${url}/` }).end();
      const { origin, appId } = await this.target(url);
      if (!appId) return void page(res, 404, 'vibe-bot', 'Apps live under /apps/&lt;id&gt;/. Ask the bot for a link with /vibe.');
      if (!origin) return void page(res, 404, 'No such app', 'This app does not exist or was deleted.');
      if (this.deps.redirect) {
        const rest = url.slice(`/apps/${appId}/`.length);
        return void res.writeHead(302, { location: `${origin.replace(/\/?$/, '/')}${rest}`, 'cache-control': 'no-store' }).end();
      }
      const headers = { ...req.headers, host: new URL(origin).host, 'x-forwarded-host': req.headers.host ?? '' };
      const upstream = http.request(origin + url, { method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err) => {
        this.deps.logger.warn({ err, appId }, 'gateway: sandbox did not answer');
        if (!res.headersSent) page(res, 502, 'App restarting', 'The app\'s sandbox did not answer. Reload in a moment.');
        else res.destroy();
      });
      req.pipe(upstream);
    } catch (err) {
      this.deps.logger.error({ err, url: req.url }, 'gateway: could not start the app');
      if (!res.headersSent) page(res, 503, 'App unavailable', 'The app could not be started. Try again in a minute.');
    }
  }

  private async onUpgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    try {
      const { origin } = await this.target(req.url);
      if (!origin || this.deps.redirect) return void client.end('HTTP/1.1 404 Not Found\r\n\r\n');
      const { hostname, port } = new URL(origin);
      const upstream = net.connect(Number(port), hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = req.rawHeaders[i]!;
          lines.push(`${name}: ${name.toLowerCase() === 'host' ? `${hostname}:${port}` : req.rawHeaders[i + 1]}`);
        }
        upstream.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    } catch (err) {
      this.deps.logger.warn({ err, url: req.url }, 'gateway: websocket to the app failed');
      client.destroy();
    }
  }
}

function page(res: http.ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;margin:3rem"><h1>${title}</h1><p>${body}</p>`);
}
