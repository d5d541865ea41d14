import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppGateway } from '../../src/sandbox/gateway.ts';

const quiet = { warn: () => undefined, error: () => undefined };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An upstream that answers HTTP with what it saw and echoes upgraded sockets. */
async function upstream(): Promise<string> {
  const server = http.createServer((req, res) => res.end(JSON.stringify({ url: req.url, host: req.headers.host, fwd: req.headers['x-forwarded-host'] })));
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

async function gateway(resolve: (id: string) => Promise<string | undefined>): Promise<string> {
  const gw = new AppGateway({ resolve, logger: quiet });
  const { port } = await gw.listen(0, '127.0.0.1');
  cleanups.push(() => gw.close());
  return `http://127.0.0.1:${port}`;
}

describe('AppGateway', () => {
  it('proxies /apps/<id>/… to the app\'s sandbox, waking it through resolve', async () => {
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
    socket.write('GET /apps/abc123/?token=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await waitFor(() => received.join('').includes('101 Switching Protocols'));
    socket.write('ping');
    await waitFor(() => received.join('').includes('echo:ping'));
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('AppGateway in redirect mode (sandboxes with their own public URL)', () => {
  it('wakes the app and sends the browser to its sandbox, keeping the path', async () => {
    const gw = new AppGateway({ resolve: async (id) => (id === 'abc123' ? 'https://sb-1.modal.host/' : undefined), logger: quiet, redirect: true });
    const { port } = await gw.listen(0, '127.0.0.1');
    cleanups.push(() => gw.close());
    const res = await fetch(`http://127.0.0.1:${port}/apps/abc123/src/App.tsx?v=2`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://sb-1.modal.host/src/App.tsx?v=2');
    expect((await fetch(`http://127.0.0.1:${port}/apps/nope123/`, { redirect: 'manual' })).status).toBe(404);
  });
});
