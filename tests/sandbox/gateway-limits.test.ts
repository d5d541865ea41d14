import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AppGateway, type GatewayDeps } from '../../src/sandbox/gateway.ts';
import { clientKey } from '../../src/sandbox/gateway-limits.ts';
import { PublishedSite } from '../../src/sandbox/published-site.ts';
import { openAppStore } from '../../src/store/open.ts';
import { eventually } from '../support/eventually.ts';

// Issue 20, item 3: one client (one remote address) must not take the gateway. Every client
// here is a real TCP connection on loopback, from 127.0.0.1 or another loopback address
// (localAddress), to a real gateway serving published apps from a memory store.

const silent = pino({ level: 'silent' });
const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A gateway over a memory store with published apps `ids`, each app on its own `<id>.localhost` origin. */
async function start(ids: string[], extra: Partial<GatewayDeps> = {}, streamLifetimeMs?: number) {
  const store = await openAppStore('memory://');
  cleanups.push(() => store.close());
  for (const id of ids) {
    await store.createApp({
      id,
      channelId: 'c',
      threadId: `t-${id}`,
      ownerId: 'u',
      title: id,
      summary: '',
      prompt: '',
    });
    await store.addVersion(id, { files: {}, instruction: '', authorId: 'u', usage, model: 'x' });
    const bytes = Buffer.from(`<!doctype html><html><head></head><body>${id}</body></html>`);
    const hash = createHash('sha256').update(bytes).digest('hex');
    await store.blobs.put(hash, bytes);
    const index = { hash, type: 'text/html; charset=utf-8', size: bytes.length };
    await store.addManifest({ appId: id, version: 1, source: 's', files: { 'index.html': index }, publishedAt: 1 });
  }
  const site = new PublishedSite({
    store,
    logger: silent,
    publishLatest: () => Promise.reject(new Error('every app here is published')),
    ...(streamLifetimeMs ? { streamLifetimeMs } : {}),
  });
  cleanups.push(() => site.close());
  let port = 0;
  const gw = new AppGateway({
    logger: silent,
    appDomain: 'localhost',
    appOrigin: (id) => `http://${id}.localhost:${port}`,
    published: site,
    resolve: () => Promise.reject(new Error('no sandbox may be asked for')),
    ...extra,
  });
  port = (await gw.listen(0, '127.0.0.1')).port;
  cleanups.push(() => gw.close());
  return { gw, port };
}

type Opened = { status: number | 'reset'; socket: net.Socket; text: () => string };

/**
 * A raw request from `from` (a loopback address) that stays open: resolves once the response's
 * head arrived, or the connection was refused or closed without one ('reset'). Every socket is
 * read (a paused socket never notices its peer hung up) and destroyed by the test's cleanup.
 */
function open(port: number, host: string, path: string, from = '127.0.0.1', extra = ''): Promise<Opened> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    cleanups.push(() => void socket.destroy());
    const chunks: Buffer[] = [];
    const text = () => Buffer.concat(chunks).toString('utf8');
    const done = () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text());
      resolve({ status: m && text().includes('\r\n\r\n') ? Number(m[1]) : 'reset', socket, text });
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (text().includes('\r\n\r\n')) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`));
  });
}

/** One ordinary page load from `from`, on a connection of its own. */
function load(port: number, appId: string, from: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        localAddress: from,
        agent: false,
        headers: { host: `${appId}.localhost:${port}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
  });
}

const count = (all: Opened[], status: Opened['status']) => all.filter((o) => o.status === status).length;

describe('no one client can take the gateway', () => {
  it(
    '1,000 event streams from one client: it gets 20, and another client still loads every page',
    { timeout: 60_000 },
    async () => {
      const { gw, port } = await start(['floodap1', 'otherap1']);
      const host = `floodap1.localhost:${port}`;
      const flood: Opened[] = [];
      for (let i = 0; i < 1000; i += 100)
        flood.push(
          ...(await Promise.all(Array.from({ length: 100 }, () => open(port, host, '/__vibe/events', '127.0.0.1')))),
        );
      // Another client: both apps' pages, and a stream of its own on the flooded app.
      for (const appId of ['otherap1', 'floodap1']) {
        const page = await load(port, appId, '127.0.0.2');
        expect(page.status).toBe(200);
        expect(page.body).toContain(appId);
      }
      const own = await open(port, host, '/__vibe/events', '127.0.0.2');
      expect(own.status).toBe(200);

      expect(count(flood, 200)).toBe(20);
      expect(flood.filter((o) => o.status === 200).every((o) => o.text().includes('text/event-stream'))).toBe(true);
      const refused = flood.filter((o) => o.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.text()).toMatch(/retry-after: \d+/i);
      expect(count(flood, 200) + count(flood, 429) + count(flood, 'reset')).toBe(1000);

      for (const o of [...flood, own]) o.socket.destroy();
      await eventually(() => gw.connectionCount() === 0, 10_000);
    },
  );

  it('streams in all stay under half of the connection cap: ordinary loads from anyone still get in', async () => {
    const { gw, port } = await start(['manyap01'], { maxConnections: 40 });
    const host = `manyap01.localhost:${port}`;
    // 40 clients, one stream each: without a reserve they would hold every connection there is.
    const streams = await Promise.all(
      Array.from({ length: 40 }, (_, i) => open(port, host, '/__vibe/events', `127.0.1.${i + 1}`)),
    );
    expect(count(streams, 200)).toBe(20);
    expect(count(streams, 429)).toBe(20);
    expect((await load(port, 'manyap01', '127.0.2.1')).status).toBe(200);
    for (const s of streams) s.socket.destroy();
    await eventually(() => gw.connectionCount() === 0, 10_000);
  });

  it("one app's streams are capped too, and a stream that ends frees its place", async () => {
    const { port } = await start(['popular1', 'quietap1'], { limits: { streamsPerApp: 3, streamsPerClient: 2 } });
    const host = `popular1.localhost:${port}`;
    const opened: Opened[] = [];
    for (const from of ['127.0.3.1', '127.0.3.2', '127.0.3.3']) {
      opened.push(await open(port, host, '/__vibe/events', from));
      opened.push(await open(port, host, '/__vibe/events', from));
    }
    expect(opened.map((o) => o.status)).toEqual([200, 200, 200, 429, 429, 429]);
    expect((await open(port, `quietap1.localhost:${port}`, '/__vibe/events', '127.0.3.1')).status).toBe(429); // its 2
    expect((await open(port, `quietap1.localhost:${port}`, '/__vibe/events', '127.0.3.4')).status).toBe(200);
    opened[0]!.socket.destroy();
    await eventually(async () => (await open(port, host, '/__vibe/events', '127.0.3.5')).status === 200, 5000);
  });

  it("shared-state sockets count toward their client's long-lived requests; other clients still get theirs", async () => {
    const accepted: string[] = [];
    const shared: GatewayDeps['shared'] = {
      upgrade: async (_req, socket, _head, appId) => {
        accepted.push(appId);
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      },
    };
    const { port } = await start(['pollapp1'], { shared, limits: { streamsPerClient: 5 } });
    const host = `pollapp1.localhost:${port}`;
    const ws =
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const flood: Opened[] = [];
    for (let i = 0; i < 8; i++) flood.push(await open(port, host, '/__vibe/shared', '127.0.4.1', ws));
    expect(flood.map((o) => o.status)).toEqual([101, 101, 101, 101, 101, 429, 429, 429]);
    expect((await open(port, host, '/__vibe/events', '127.0.4.1')).status).toBe(429); // its share is used up
    expect((await open(port, host, '/__vibe/shared', '127.0.4.2', ws)).status).toBe(101);
    expect(accepted).toHaveLength(6);
  });

  it('caps the connections one client holds open; other clients are not affected', async () => {
    const { gw, port } = await start(['connapp1'], { limits: { perClientConnections: 5 } });
    const host = `connapp1.localhost:${port}`;
    // Headers never finished: connections that would otherwise idle until the header timeout.
    const idle = await Promise.all(
      Array.from({ length: 5 }, () => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.4.1' });
        cleanups.push(() => void s.destroy());
        s.on('error', () => undefined);
        s.resume();
        return new Promise<net.Socket>((r) =>
          s.once('connect', () => (s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n`), r(s))),
        );
      }),
    );
    await eventually(() => gw.connectionCount() === 5);
    expect((await open(port, host, '/', '127.0.4.1')).status).toBe('reset');
    expect((await load(port, 'connapp1', '127.0.4.2')).status).toBe(200);
    idle[0]!.destroy();
    await eventually(() => gw.connectionCount() <= 4);
    expect((await load(port, 'connapp1', '127.0.4.1')).status).toBe(200);
  });

  it('ends a stream at its lifetime with a reconnect hint, and the browser may come back', async () => {
    const { port } = await start(['lifeapp1'], { limits: { streamsPerClient: 1 } }, 300);
    const host = `lifeapp1.localhost:${port}`;
    const first = await open(port, host, '/__vibe/events');
    expect(first.status).toBe(200);
    await eventually(() => first.socket.destroyed || first.text().endsWith('0\r\n\r\n'), 5000);
    expect(first.text()).toMatch(/retry: \d+\n\n[\s\S]*retry: \d+\n\n/);
    // Its place is free again: the reconnect is let in.
    await eventually(async () => (await open(port, host, '/__vibe/events')).status === 200, 5000);
  });

  it('behind a trusted reverse proxy, the client is the one X-Forwarded-For names', async () => {
    const { port } = await start(['proxyap1'], {
      trustedProxies: ['127.0.0.1'],
      limits: { streamsPerClient: 2, perClientConnections: 3 },
    });
    const host = `proxyap1.localhost:${port}`;
    const viaProxy = (client: string) =>
      open(port, host, '/__vibe/events', '127.0.0.1', `X-Forwarded-For: ${client}\r\n`);
    const statuses = [];
    for (const client of ['203.0.113.5', '203.0.113.5', '203.0.113.5', '198.51.100.7', '198.51.100.7'])
      statuses.push((await viaProxy(client)).status);
    // The proxy's own connections are many clients': more than 3 of them are fine.
    expect(statuses).toEqual([200, 200, 429, 200, 200]);
    // Anyone else may not name a client: its own address is the client.
    const direct = (xff: string) => open(port, host, '/__vibe/events', '127.0.5.1', `X-Forwarded-For: ${xff}\r\n`);
    expect([
      (await direct('192.0.2.1')).status,
      (await direct('192.0.2.2')).status,
      (await direct('192.0.2.3')).status,
    ]).toEqual([200, 200, 429]);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('2001:0db8:0001:0002:0:0:0:1')).toBe(clientKey('2001:db8:1:2::1'));
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('::1')).toBe(clientKey('::2'));
  });
});
