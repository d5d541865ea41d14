import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../core/ports/index.ts';
import { page } from './gateway-page.ts';

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
/**
 * A visitor's credentials for the gateway's site or a parent domain (its cookies, HTTP auth of a
 * proxy in front): a sandbox runs hostile code and needs neither.
 */
const CREDENTIALS = ['cookie', 'authorization'];
/**
 * What a sandbox may not answer with: cookies (one with `Domain=` the apps' parent domain would
 * reach every other app; nothing in a sandbox sets cookies) and CORS grants (the live view
 * answers only its own origin, which needs none).
 */
const notFromSandbox = (name: string) => name === 'set-cookie' || name.startsWith('access-control-');

/** Headers minus the hop-by-hop ones (and any the Connection header names) and any `drop` names. */
function forwardHeaders(
  h: http.IncomingHttpHeaders,
  drop: (name: string) => boolean = () => false,
): http.OutgoingHttpHeaders {
  const named = String(h.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined && !HOP_BY_HOP.includes(k) && !named.includes(k) && !drop(k)) out[k] = v;
  return out;
}

/** The headers a request goes to the sandbox at `origin` with. */
function toSandbox(req: http.IncomingMessage, origin: string): http.OutgoingHttpHeaders {
  const headers = forwardHeaders(req.headers, (k) => CREDENTIALS.includes(k));
  headers.host = new URL(origin).host;
  return headers;
}

/**
 * One HTTP request proxied to the sandbox at `origin`. The sandbox must send its headers within
 * `timeoutMs` (then the response may idle: an event stream); the upstream request ends when its
 * client goes.
 */
export function proxyHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  origin: string,
  opts: { timeoutMs: number; logger: Pick<Logger, 'warn'>; appId: string },
): void {
  const headers = { ...toSandbox(req, origin), 'x-forwarded-host': req.headers.host ?? '' };
  const upstream = http.request(origin + (req.url ?? '/'), { method: req.method, headers }, (up) => {
    upstream.setTimeout(0); // headers arrived: a long response (an event stream) may idle
    res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers, notFromSandbox));
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.setTimeout(opts.timeoutMs, () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', (err) => {
    if (res.destroyed) return; // the client left first
    opts.logger.warn({ err, appId: opts.appId }, 'gateway: sandbox did not answer');
    if (!res.headersSent) page(res, 502, 'App restarting', "The app's sandbox did not answer. Reload in a moment.");
    else res.destroy();
  });
  // The client went away (closed the tab, left an event stream): so does the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/**
 * A WebSocket upgrade proxied to the sandbox at `origin` on a connection of its own: the
 * sandbox's handshake answer is passed back, then bytes flow both ways until either side
 * closes. A sandbox that does not answer the handshake within `timeoutMs` is hung up on.
 */
export function proxyUpgrade(
  req: http.IncomingMessage,
  client: net.Socket,
  head: Buffer,
  origin: string,
  timeoutMs: number,
): void {
  const headers = toSandbox(req, origin);
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
  }, timeoutMs);
  client.on('close', hangUp);
  upstream.on('upgrade', (upRes, ws: net.Socket, upHead) => {
    clearTimeout(timer);
    const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
    for (let i = 0; i < upRes.rawHeaders.length; i += 2)
      if (!notFromSandbox(upRes.rawHeaders[i]!.toLowerCase()))
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
    refuseUpgrade(client, `${upRes.statusCode ?? 502} ${upRes.statusMessage ?? 'Bad Gateway'}`);
  });
  upstream.on('error', () => {
    clearTimeout(timer);
    client.destroy();
  });
  upstream.end();
}

/** Answers an upgrade request with `status` ("404 Not Found") and closes the connection. */
export function refuseUpgrade(client: net.Socket, status: string, extra = ''): void {
  client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
}
