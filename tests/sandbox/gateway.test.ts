import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppGateway } from '../../src/sandbox/gateway.ts';
import { eventually } from '../support/eventually.ts';

const quiet = { warn: () => undefined, error: () => undefined };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An upstream that answers HTTP with what it saw and echoes upgraded sockets. */
async function upstream(): Promise<string> {
  const server = http.createServer((req, res) =>
    res.end(JSON.stringify({ url: req.url, host: req.headers.host, fwd: req.headers['x-forwarded-host'] })),
  );
  server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function gateway(
  resolve: (id: string) => Promise<string | undefined>,
  extra: Partial<ConstructorParameters<typeof AppGateway>[0]> = {},
): Promise<string> {
  const gw = new AppGateway({ resolve, logger: quiet, ...extra });
  const { port } = await gw.listen(0, '127.0.0.1');
  cleanups.push(() => gw.close());
  return `http://127.0.0.1:${port}`;
}

describe('AppGateway', () => {
  it("proxies /apps/<id>/… to the app's sandbox, waking it through resolve", async () => {
    const origin = await upstream();
    const asked: string[] = [];
    const gw = await gateway(async (id) => (asked.push(id), id === 'abc123' ? origin : undefined));
    const res = await fetch(`${gw}/apps/abc123/src/App.tsx?x=1`);
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { url: string; host: string; fwd: string };
    expect(seen.url).toBe('/apps/abc123/src/App.tsx?x=1');
    expect(seen.host).toBe(new URL(origin).host);
    expect(seen.fwd).toBe(new URL(gw).host);
    expect(asked).toEqual(['abc123']);

    expect((await fetch(`${gw}/apps/zzz999/`)).status).toBe(404);
    expect((await fetch(`${gw}/`)).status).toBe(404);
    const redirect = await fetch(`${gw}/apps/abc123`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/apps/abc123/');
  });

  it('answers 503 when the app cannot be started and 502 when its sandbox is gone', async () => {
    const gw = await gateway(async (id) => {
      if (id === 'broken1') throw new Error('boot failed');
      return 'http://127.0.0.1:9'; // nothing listens on the discard port
    });
    expect((await fetch(`${gw}/apps/broken1/`)).status).toBe(503);
    expect((await fetch(`${gw}/apps/gone123/`)).status).toBe(502);
  });

  it('proxies WebSocket upgrades (Vite HMR)', async () => {
    const origin = await upstream();
    const gw = new URL(await gateway(async () => origin));
    const socket = net.connect(Number(gw.port), gw.hostname);
    cleanups.push(async () => void socket.destroy());
    const received: string[] = [];
    socket.on('data', (d) => received.push(d.toString()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      'GET /apps/abc123/dev/?token=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    await eventually(() => received.join('').includes('101 Switching Protocols'), 3000);
    socket.write('ping');
    await eventually(() => received.join('').includes('echo:ping'), 3000);
  });
});

/** Sends raw bytes to the gateway and collects what comes back until it closes (or `ms`). */
async function raw(gw: string, request: string, ms = 3000): Promise<string> {
  const url = new URL(gw);
  const socket = net.connect(Number(url.port), url.hostname);
  cleanups.push(async () => void socket.destroy());
  const chunks: string[] = [];
  socket.on('data', (d) => chunks.push(d.toString()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(request);
  await new Promise<void>((r) => {
    socket.once('close', () => r());
    setTimeout(r, ms);
  });
  return chunks.join('');
}

describe('AppGateway hardening', () => {
  it('upgrades only a WebSocket on the creator view; other upgrades and views are refused', async () => {
    const origin = await upstream();
    const gw = await gateway(async () => origin);
    expect(
      await raw(
        gw,
        'GET /apps/abc123/?x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1\.1 404/);
    expect(
      await raw(gw, 'GET /apps/abc123/dev/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 404/);
    expect(
      await raw(
        gw,
        'GET /apps/abc123/dev/ HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1\.1 421/);
  });

  it('gives up on a sandbox that never answers the WebSocket handshake', async () => {
    const silent = net.createServer(() => undefined); // accepts, never answers
    const sockets = new Set<net.Socket>();
    let closed = 0;
    silent.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => closed++);
      s.on('error', () => undefined);
      s.resume(); // read, so the hang-up is noticed
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => silent.close(() => r()));
    });
    const gw = new AppGateway({
      resolve: async () => `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      logger: quiet,
      upgradeTimeoutMs: 300,
    });
    const { port } = await gw.listen(0, '127.0.0.1');
    cleanups.push(() => gw.close());
    const t = Date.now();
    await raw(
      `http://127.0.0.1:${port}`,
      'GET /apps/abc123/dev/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      5000,
    );
    expect(Date.now() - t).toBeLessThan(3000);
    expect(sockets.size).toBe(1);
    await eventually(() => closed === 1, 3000); // the gateway hung up on the silent sandbox too
  });

  it("blocks Vite's editor launcher, refuses unknown hosts (DNS rebinding), and drops hop-by-hop headers", async () => {
    let seen: http.IncomingHttpHeaders = {};
    const server = http.createServer((req, res) => {
      seen = req.headers;
      res.writeHead(200, {
        'keep-alive': 'timeout=99',
        'x-app': 'yes',
        connection: 'x-secret-hop',
        'x-secret-hop': 'drop me',
      });
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const gw = await gateway(async () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect((await fetch(`${gw}/apps/abc123/dev/__open-in-editor?file=/etc/passwd`)).status).toBe(403);
    expect((await fetch(`${gw}/apps/abc123/__open-in-editor?file=x`)).status).toBe(403);
    const rebound = await raw(
      gw,
      'GET /apps/abc123/ HTTP/1.1\r\nHost: attacker.example:8787\r\nConnection: close\r\n\r\n',
    );
    expect(rebound).toMatch(/^HTTP\/1\.1 421/);
    const res = await raw(
      gw,
      'GET /apps/abc123/ HTTP/1.1\r\nHost: localhost\r\nConnection: close, x-client-hop\r\nx-client-hop: drop\r\nProxy-Authorization: Basic x\r\nTE: trailers\r\n\r\n',
    );
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).toContain('x-app: yes');
    expect(res.toLowerCase()).not.toContain('x-secret-hop');
    expect(res.toLowerCase()).not.toContain('timeout=99');
    expect(seen['x-client-hop']).toBeUndefined();
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen.te).toBeUndefined();
  });

  it('closes the upstream socket of every client that leaves an event stream', async () => {
    const open = new Set<net.Socket>();
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 500\n\n'); // and then nothing: a stream that idles
    });
    server.on('connection', (s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      open.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    });
    // One client with 50 streams: over the default 20 a client (gateway-limits.test.ts).
    const gw = await gateway(async () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      limits: { streamsPerClient: 50 },
    });
    const url = new URL(gw);
    const clients = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const s = net.connect(Number(url.port), url.hostname);
        const first = new Promise<void>((r) => s.once('data', () => r()));
        s.write('GET /apps/abc123/__vibe/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
        await first;
        return s;
      }),
    );
    expect(open.size).toBe(50);
    for (const c of clients) c.destroy();
    await eventually(() => open.size === 0, 5000);
  });

  it('answers a wake that finds every sandbox busy with 503 and Retry-After', async () => {
    const busy = Object.assign(new Error('all 4 sandboxes are in use'), { name: 'RuntimeBusyError' });
    const gw = await gateway(async () => {
      throw busy;
    });
    const res = await fetch(`${gw}/apps/abc123/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.text()).toMatch(/busy/i);
  });
});

describe('AppGateway in redirect mode (sandboxes with their own public URL)', () => {
  it('wakes the app and sends the browser to its sandbox, keeping the path', async () => {
    const gw = new AppGateway({
      resolve: async (id) => (id === 'abc123' ? 'https://sb-1.modal.host/' : undefined),
      logger: quiet,
      redirect: true,
    });
    const { port } = await gw.listen(0, '127.0.0.1');
    cleanups.push(() => gw.close());
    const res = await fetch(`http://127.0.0.1:${port}/apps/abc123/src/App.tsx?v=2`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://sb-1.modal.host/src/App.tsx?v=2');
    expect((await fetch(`http://127.0.0.1:${port}/apps/nope123/`, { redirect: 'manual' })).status).toBe(404);
  });
});

/**
 * A raw HTTP/1.1 exchange to the gateway on loopback with a Host of our choosing (Node does not
 * resolve *.localhost): ends with the response, or with its head for an upgrade that stays open.
 */
async function ask(
  gw: string,
  host: string,
  path: string,
  extra = '',
): Promise<{ status: number; head: string; body: string }> {
  const u = new URL(gw);
  const socket = net.connect(Number(u.port), '127.0.0.1');
  cleanups.push(async () => void socket.destroy());
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`),
    );
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (/^HTTP\/1\.1 101/.test(Buffer.concat(chunks).toString()) && Buffer.concat(chunks).includes('\r\n\r\n')) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('end', () => resolve());
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body };
}

describe('apps on origins of their own (VIBE_APP_DOMAIN)', () => {
  async function start(): Promise<{ gw: string; port: number }> {
    const origin = await upstream();
    let port = 0;
    const gw = new AppGateway({
      resolve: async (id) => (['abc123', 'def456'].includes(id) ? origin : undefined),
      logger: quiet,
      appDomain: 'localhost',
      appOrigin: (id) => `http://${id}.localhost:${port}`,
    });
    port = (await gw.listen(0, '127.0.0.1')).port;
    cleanups.push(() => gw.close());
    return { gw: `http://127.0.0.1:${port}`, port };
  }

  it("serves each app at the root of its own host, its own /apps/<id>/ paths too, and never another app's", async () => {
    const { gw, port } = await start();
    const root = await ask(gw, `abc123.localhost:${port}`, '/');
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body).url).toBe('/apps/abc123/');
    const dev = await ask(gw, `abc123.localhost:${port}`, '/dev/src/App.tsx?t=1');
    expect(JSON.parse(dev.body).url).toBe('/apps/abc123/dev/src/App.tsx?t=1');
    // Vite's pages ask for their assets by absolute path under the app's base: still this app.
    const asset = await ask(gw, `abc123.localhost:${port}`, '/apps/abc123/assets/index.js');
    expect(JSON.parse(asset.body).url).toBe('/apps/abc123/assets/index.js');
    // Another app's source is not reachable from this origin.
    expect((await ask(gw, `abc123.localhost:${port}`, '/apps/def456/dev/src/App.tsx')).status).toBe(404);
    expect((await ask(gw, `zzz999.localhost:${port}`, '/')).status).toBe(404);
  });

  it('answers 404 to a foreign host, and redirects path links to the app’s origin', async () => {
    const { gw, port } = await start();
    expect((await ask(gw, 'evil.example.com', '/apps/abc123/')).status).toBe(404);
    expect((await ask(gw, `abc123.localhost.evil.com:${port}`, '/')).status).toBe(404);
    expect((await ask(gw, `a.b.localhost:${port}`, '/')).status).toBe(404);
    const moved = await ask(gw, `127.0.0.1:${port}`, '/apps/abc123/dev/?x=1');
    expect(moved.status).toBe(302);
    expect(moved.head).toMatch(new RegExp(`location: http://abc123\\.localhost:${port}/dev/\\?x=1`, 'i'));
    // Viewer error reports to the path form are still answered here (Modal sandboxes post them).
    const report = await fetch(`${gw}/apps/abc123/__vibe/errors`, { method: 'GET' });
    expect(report.status).toBe(405);
  });

  it("upgrades the creator view's WebSocket on the app's own origin only", async () => {
    const { gw, port } = await start();
    const upgrade =
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const own = await ask(gw, `abc123.localhost:${port}`, '/apps/abc123/dev/?token=t', upgrade).catch(() => ({
      status: 0,
      head: '',
    }));
    expect(own.head).toMatch(/101 Switching Protocols/);
    expect((await ask(gw, `127.0.0.1:${port}`, '/apps/abc123/dev/?token=t', upgrade)).status).toBe(404);
    expect((await ask(gw, `abc123.localhost:${port}`, '/apps/def456/dev/', upgrade)).status).toBe(404);
  });
});

describe("the live view answers only its own origin (another app's page may not read it)", () => {
  /**
   * An upstream that answers like Vite with `server.cors` unset (it echoes any *.localhost
   * Origin) and sets a cookie; it records the headers it was sent.
   */
  async function viteLike() {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      const origin = req.headers.origin;
      res.writeHead(200, {
        'content-type': 'text/javascript',
        'set-cookie': 'planted=1; Domain=localhost; Path=/',
        ...(origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' } : {}),
      });
      res.end('export default function App() { return "secret source"; }');
    });
    server.on('upgrade', (req, socket) => {
      seen.push(req.headers);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSet-Cookie: ws=1; Domain=localhost\r\n\r\n',
      );
    });
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    });
    let port = 0;
    const gw = new AppGateway({
      resolve: async () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      logger: quiet,
      appDomain: 'localhost',
      appOrigin: (id) => `http://${id}.localhost:${port}`,
    });
    port = (await gw.listen(0, '127.0.0.1')).port;
    cleanups.push(() => gw.close());
    return { gw: `http://127.0.0.1:${port}`, port, seen };
  }
  const upgrade =
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

  it('a page of otherapp.localhost cannot read /dev/src/App.tsx: 403, no CORS grant', async () => {
    const { gw, port, seen } = await viteLike();
    const host = `abc123.localhost:${port}`;
    for (const origin of [`http://def456.localhost:${port}`, 'http://evil.example', 'null']) {
      const cross = await ask(gw, host, '/dev/src/App.tsx', `Origin: ${origin}\r\n`);
      expect(cross.status, origin).toBe(403);
      expect(cross.head.toLowerCase()).not.toContain('access-control-allow');
      expect(cross.body).not.toContain('secret source');
    }
    expect(seen).toHaveLength(0); // never reached the sandbox
    // Its own pages (a same-origin read sends no Origin, a module script may) still read it.
    for (const extra of ['', `Origin: http://${host}\r\n`]) {
      const own = await ask(gw, host, '/dev/src/App.tsx', extra);
      expect(own.status).toBe(200);
      expect(own.body).toContain('secret source');
      expect(own.head.toLowerCase()).not.toContain('access-control-allow');
    }
  });

  it("refuses the hot-reload socket to another app's page, upgrades it for the app's own", async () => {
    const { gw, port, seen } = await viteLike();
    const host = `abc123.localhost:${port}`;
    const cross = await ask(gw, host, '/dev/?token=t', `${upgrade}Origin: http://def456.localhost:${port}\r\n`);
    expect(cross.status).toBe(403);
    expect(seen).toHaveLength(0);
    const own = await ask(gw, host, '/dev/?token=t', `${upgrade}Origin: http://${host}\r\n`);
    expect(own.status).toBe(101);
    expect(own.head.toLowerCase()).not.toContain('set-cookie');
  });

  it("under path links (one origin for all apps), refuses other sites' pages but not the gateway's own names", async () => {
    const origin = await upstream();
    const gw = await gateway(async () => origin, { allowedHosts: ['vibe.example.net'] });
    const port = new URL(gw).port;
    // A tunnel that rewrites Host: the page is on the public name, the gateway sees loopback.
    const own = await ask(
      gw,
      `127.0.0.1:${port}`,
      '/apps/abc123/dev/?token=t',
      `${upgrade}Origin: https://vibe.example.net\r\n`,
    );
    expect(own.status).toBe(101);
    for (const foreign of ['https://evil.example', 'null']) {
      expect(
        (await ask(gw, `127.0.0.1:${port}`, '/apps/abc123/dev/?token=t', `${upgrade}Origin: ${foreign}\r\n`)).status,
      ).toBe(403);
      expect(
        (await ask(gw, `127.0.0.1:${port}`, '/apps/abc123/dev/src/App.tsx', `Origin: ${foreign}\r\n`)).status,
      ).toBe(403);
    }
  });

  it('sends a sandbox no cookies or credentials, and passes back no cookie it sets', async () => {
    const { gw, port, seen } = await viteLike();
    const res = await ask(
      gw,
      `abc123.localhost:${port}`,
      '/dev/src/App.tsx',
      'Cookie: session=parent-domain-secret\r\nAuthorization: Basic b3BlcmF0b3I6cGFzcw==\r\n',
    );
    expect(res.status).toBe(200);
    expect(seen[0]!.cookie).toBeUndefined();
    expect(seen[0]!.authorization).toBeUndefined();
    expect(res.head.toLowerCase()).not.toContain('set-cookie');
    await ask(gw, `abc123.localhost:${port}`, '/dev/?token=t', `${upgrade}Cookie: session=x\r\n`);
    expect(seen[1]!.cookie).toBeUndefined();
  });
});
