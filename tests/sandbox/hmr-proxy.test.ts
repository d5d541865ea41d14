import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.ts';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { recordingLogger, tempDir, templateDir, templateFiles } from './sandbox-test-kit.ts';
import { needs } from '../support/needs.ts';

/**
 * A reverse proxy on its own port that keeps the path: what a tunnel or the bot's /apps/<id>/
 * route does. It forwards HTTP and WebSocket upgrades and counts the upgrades it saw.
 */
function startProxy(
  targetPort: number,
  tls?: { key: Buffer; cert: Buffer },
): Promise<{ port: number; upgrades: string[]; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const upgrades: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  // https stands in for a tunnel such as Modal's: the page's origin is https, port 443-like.
  const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
  server.on('upgrade', (req, client: Socket, head: Buffer) => {
    upgrades.push(req.url ?? '');
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        upgrades,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A throwaway self-signed certificate for 127.0.0.1 (the browser is told to accept it). */
function selfSignedCert(dir: string): { key: Buffer; cert: Buffer } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

describe.runIf(needs('chromium'))('HMR behind a reverse proxy', () => {
  let apps: Awaited<ReturnType<typeof tempDir>>;
  let certs: Awaited<ReturnType<typeof tempDir>>;
  let provider: LocalSandboxProvider;

  beforeAll(async () => {
    apps = await tempDir('vibe-hmr-');
    certs = await tempDir('vibe-certs-');
    provider = new LocalSandboxProvider({
      appsDir: apps.path,
      templateDir,
      logger: recordingLogger(),
      isolation: needs('bwrap') ? 'bwrap' : 'none',
    });
  });
  afterAll(async () => {
    await provider.stopAll();
    await apps.remove();
    await certs.remove();
  });

  async function editBehindProxy(scheme: 'http' | 'https'): Promise<void> {
    const appId = `hmr${scheme}`;
    const files = {
      ...templateFiles(),
      'src/App.tsx': 'export default function App() { return <h1 id="t">Version one</h1>; }\n',
    };
    const { id, url } = await provider.boot(appId, files);
    const vitePort = Number(new URL(url).port);
    const proxy = await startProxy(vitePort, scheme === 'https' ? selfSignedCert(certs.path) : undefined);
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      const sockets: string[] = [];
      page.on('websocket', (ws) => sockets.push(ws.url()));
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      // The creator's link: the dev server (with HMR) is under dev/; the base is the light view.
      await page.goto(`${scheme}://127.0.0.1:${proxy.port}/apps/${appId}/dev/`);
      await page.locator('#t', { hasText: 'Version one' }).waitFor({ timeout: 30_000 });
      // Wait for the HMR socket (through the proxy) before editing.
      await expect.poll(() => proxy.upgrades.length, { timeout: 15_000 }).toBeGreaterThan(0);
      await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));

      await provider.write(id, {
        ...files,
        'src/App.tsx': 'export default function App() { return <h1 id="t">Version two</h1>; }\n',
      });
      await page.locator('#t', { hasText: 'Version two' }).waitFor({ timeout: 15_000 });

      // Same document (no full reload), and the socket went to the page's origin, not Vite's port.
      expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
      expect(sockets.length).toBeGreaterThan(0);
      for (const s of sockets) expect(new URL(s).host).toBe(`127.0.0.1:${proxy.port}`);
      for (const s of sockets) expect(new URL(s).protocol).toBe(scheme === 'https' ? 'wss:' : 'ws:');
      expect(proxy.upgrades.every((u) => u.startsWith(`/apps/${appId}/`))).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
      await proxy.close();
      await provider.stop(id);
    }
  }

  it(
    'updates the page in place through an http proxy on another port with the same base path',
    () => editBehindProxy('http'),
    90_000,
  );
  it.runIf(needs('openssl'))(
    'updates the page in place through an https proxy (a tunnel) with the same base path',
    () => editBehindProxy('https'),
    90_000,
  );
});
