import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppGateway } from '../../src/sandbox/gateway.ts';
import { eventually } from '../support/eventually.ts';

// `POST /apps/<id>/__vibe/errors` at the gateway: a viewer's browser reports an uncaught error
// of the app. Anyone can send one, so only reports from the app's own pages (its Origin), within
// limits per client, per app and in all, and of the right shape and size are handed on.

const quiet = { warn: () => undefined, error: () => undefined };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Report = { message: string; stack?: string };
type GatewayDeps = ConstructorParameters<typeof AppGateway>[0];

/** A gateway in front of an upstream that counts what reaches it; reports handed on are recorded. */
async function reportGateway(extra: Partial<GatewayDeps> | ((port: () => number) => Partial<GatewayDeps>) = {}) {
  let proxied = 0;
  const server = http.createServer((_req, res) => {
    proxied++;
    res.end('upstream');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const reports: { appId: string; report: Report }[] = [];
  const resolved: string[] = [];
  let port = 0;
  const gw = new AppGateway({
    resolve: async (id) => (resolved.push(id), `http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    logger: quiet,
    onViewerError: (appId, report) => void reports.push({ appId, report }),
    ...(typeof extra === 'function' ? extra(() => port) : extra),
  });
  port = (await gw.listen(0, '127.0.0.1')).port;
  cleanups.push(() => gw.close());
  const base = `http://127.0.0.1:${port}`;
  /** A report as the app's own page sends it (path links: the gateway's origin), unless told otherwise. */
  const post = (
    body: string,
    id = 'abc123',
    opts: { headers?: Record<string, string>; origin?: string | null; localAddress?: string; host?: string } = {},
  ) =>
    send(port, {
      path: `/apps/${id}/__vibe/errors`,
      body,
      host: opts.host ?? `127.0.0.1:${port}`,
      origin: opts.origin === undefined ? base : opts.origin,
      headers: opts.headers,
      localAddress: opts.localAddress,
    });
  return { gw, base, port, post, reports, resolved, proxied: () => proxied };
}

/** One POST over its own connection (so each can come from its own local address). */
function send(
  port: number,
  r: {
    path: string;
    body: string;
    host: string;
    origin: string | null;
    headers?: Record<string, string>;
    localAddress?: string;
    method?: string;
  },
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: r.path,
        method: r.method ?? 'POST',
        agent: false,
        ...(r.localAddress ? { localAddress: r.localAddress } : {}),
        headers: {
          host: r.host,
          'content-type': 'text/plain;charset=UTF-8',
          ...(r.origin !== null ? { origin: r.origin } : {}),
          ...r.headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

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

const REPORT = JSON.stringify({ message: 'boom', stack: 'Error: boom\n    at x (src/App.tsx:3:1)' });

describe('viewer error reports at the gateway', () => {
  it("hands a report from the app's own page on and answers 204, never proxying it or waking the app", async () => {
    const t = await reportGateway();
    expect((await t.post(REPORT)).status).toBe(204);
    expect(t.reports).toEqual([
      { appId: 'abc123', report: { message: 'boom', stack: 'Error: boom\n    at x (src/App.tsx:3:1)' } },
    ]);
    expect((await t.post(JSON.stringify({ message: 'no stack' }))).status).toBe(204);
    expect(t.reports[1]!.report).toEqual({ message: 'no stack' });
    // An id nobody has (or a deleted app's) is the bot's to ignore: the answer is the same.
    expect((await t.post(JSON.stringify({ message: 'x' }), 'nosuchapp1')).status).toBe(204);
    expect(t.proxied()).toBe(0);
    expect(t.resolved).toEqual([]);
    // Not the app-id grammar: no app path at all.
    expect((await t.post(JSON.stringify({ message: 'x' }), 'NOT_AN_ID')).status).toBe(404);
    expect(t.reports).toHaveLength(3);
  });

  it('refuses a forged report (403): no Origin, a foreign one, `null`, another port', async () => {
    const t = await reportGateway({ errorReportLimits: { perClient: 100 } });
    // What `curl -d` sends: no Origin at all.
    expect((await t.post(REPORT, 'abc123', { origin: null })).status).toBe(403);
    // A page on another site, posting to the app's path.
    expect((await t.post(REPORT, 'abc123', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await t.post(REPORT, 'abc123', { origin: 'null' })).status).toBe(403);
    expect((await t.post(REPORT, 'abc123', { origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await t.post(REPORT, 'abc123', { origin: `${t.base}/apps/abc123/` })).status).toBe(403); // not an origin
    expect(t.reports).toEqual([]);
    // Refusals do not use up the app's allowance: its own page still gets through.
    expect((await t.post(REPORT)).status).toBe(204);
    expect(t.reports).toHaveLength(1);
  });

  it("on app origins, takes only the app's own origin or its sandbox's, never another app's", async () => {
    const t = await reportGateway((port) => ({
      errorReportLimits: { perClient: 100 },
      appDomain: 'localhost',
      appOrigin: (id) => `http://${id}.localhost:${port()}`,
      sandboxOrigin: async (id) => (id === 'abc123' ? 'https://sb-1.modal.host' : undefined),
    }));
    const own = `http://abc123.localhost:${t.port}`;
    const onOwnHost = { host: `abc123.localhost:${t.port}` };
    expect((await send(t.port, { path: '/__vibe/errors', body: REPORT, origin: own, ...onOwnHost })).status).toBe(204);
    // Another app's page (same site, another origin) forging a report for this one.
    const other = `http://def456.localhost:${t.port}`;
    expect((await send(t.port, { path: '/__vibe/errors', body: REPORT, origin: other, ...onOwnHost })).status).toBe(
      403,
    );
    expect((await t.post(REPORT, 'abc123', { origin: other })).status).toBe(403);
    // The gateway's own origin serves no app here.
    expect((await t.post(REPORT, 'abc123')).status).toBe(403);
    // The app's own origin posting to the gateway's path (a Modal light view), and its sandbox's tunnel.
    expect((await t.post(REPORT, 'abc123', { origin: own })).status).toBe(204);
    expect((await t.post(REPORT, 'abc123', { origin: 'https://sb-1.modal.host' })).status).toBe(204);
    // A tunnel is its own app's only.
    expect((await t.post(REPORT, 'def456', { origin: 'https://sb-1.modal.host' })).status).toBe(403);
    expect(t.reports.map((r) => r.appId)).toEqual(['abc123', 'abc123', 'abc123']);
  });

  it('refuses anything but POST of {message: string, stack?: string} as JSON', async () => {
    const t = await reportGateway({ errorReportLimits: { perClient: 100, perApp: 100 } });
    for (const body of [
      'not json',
      '',
      '[]',
      'null',
      '"boom"',
      '{}',
      '{"message":""}',
      '{"message":"   "}',
      '{"message":42}',
      '{"message":"x","stack":7}',
      '{"message":"x","page":"<html>secret</html>"}',
      '{"message":"x","stack":"s","url":"https://x/?token=1"}',
    ])
      expect((await t.post(body)).status, body).toBe(400);
    const get = await fetch(`${t.base}/apps/abc123/__vibe/errors`);
    expect(get.status).toBe(405);
    expect(t.reports).toEqual([]);
    expect(t.proxied()).toBe(0);
  });

  it('refuses bodies over 4 KB (413), declared or streamed, without reading the rest', async () => {
    const t = await reportGateway();
    const big = JSON.stringify({ message: 'x', stack: 'y'.repeat(5000) });
    expect((await t.post(big)).status).toBe(413);
    const head = `Host: 127.0.0.1:${t.port}\r\nOrigin: ${t.base}`;
    // Declared too big: answered from the headers alone, and the connection is closed.
    const declared = await raw(
      t.base,
      `POST /apps/abc123/__vibe/errors HTTP/1.1\r\n${head}\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n{"message":`,
    );
    expect(declared).toMatch(/^HTTP\/1\.1 413/);
    // Chunked (no length): cut off once it passes 4 KB.
    const chunk = 'z'.repeat(3000);
    const streamed = await raw(
      t.base,
      `POST /apps/abc123/__vibe/errors HTTP/1.1\r\n${head}\r\nTransfer-Encoding: chunked\r\n\r\n${[1, 2, 3].map(() => `${(3000).toString(16)}\r\n${chunk}\r\n`).join('')}`,
    );
    expect(streamed).toMatch(/^HTTP\/1\.1 413/);
    expect(t.reports).toEqual([]);
    await eventually(() => t.gw.connectionCount() === 0, 3000);
  });

  it('cuts off a body that trickles in (slowloris) after its deadline', async () => {
    const t = await reportGateway({ errorReportTimeoutMs: 300 });
    const socket = net.connect(t.port, '127.0.0.1');
    cleanups.push(async () => void socket.destroy());
    const got: string[] = [];
    socket.on('data', (d) => got.push(d.toString()));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      `POST /apps/abc123/__vibe/errors HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nOrigin: ${t.base}\r\nContent-Length: 40\r\n\r\n{"mes`,
    );
    const drip = setInterval(() => !socket.destroyed && socket.write('s'), 100);
    await closed;
    clearInterval(drip);
    expect(got.join('')).toMatch(/^HTTP\/1\.1 408/);
    expect(t.reports).toEqual([]);
  });

  it('limits reports per client: one client used up, another still gets through', async () => {
    let now = 0;
    const t = await reportGateway({ errorReportLimits: { perClient: 3, perApp: 100 }, now: () => now });
    const from = async (localAddress: string, n: number, id = 'abc123') => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await t.post(REPORT, id, { localAddress })).status);
      return out;
    };
    expect(await from('127.0.0.1', 4)).toEqual([204, 204, 204, 429]);
    // The same client about another app: still its own limit.
    expect(await from('127.0.0.1', 1, 'def456')).toEqual([429]);
    const limited = await t.post(REPORT, 'abc123', { localAddress: '127.0.0.1' });
    expect(limited.headers['retry-after']).toBe('60');
    // A forged report counts toward its client's limit too (it is refused either way).
    expect((await t.post(REPORT, 'abc123', { localAddress: '127.0.0.2', origin: null })).status).toBe(403);
    expect(await from('127.0.0.2', 3)).toEqual([204, 204, 429]);
    expect(t.reports).toHaveLength(5);
    now += 60_000;
    expect(await from('127.0.0.1', 1)).toEqual([204]);
  });

  it('limits reports per app and in all, whatever the number of clients', async () => {
    let now = 0;
    const t = await reportGateway({ errorReportLimits: { perClient: 2, perApp: 3, total: 5 }, now: () => now });
    const client = (i: number) => `127.0.0.${10 + i}`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.post(REPORT, 'app0001', { localAddress: client(i) })).status);
    expect(statuses).toEqual([204, 204, 204, 429, 429]); // 3 for the app, from 5 clients
    const other: number[] = [];
    for (let i = 5; i < 8; i++) other.push((await t.post(REPORT, 'app0002', { localAddress: client(i) })).status);
    expect(other).toEqual([204, 204, 429]); // the overall 5 are used up
    expect(t.reports).toHaveLength(5);
    now += 60_000;
    expect((await t.post(REPORT, 'app0003', { localAddress: client(9) })).status).toBe(204);
  });

  it('stays responsive under a flood of reports from one client, and its connections fall back', async () => {
    const t = await reportGateway();
    const body = JSON.stringify({ message: 'flood', stack: 's'.repeat(1500) });
    const results = await Promise.all(Array.from({ length: 200 }, () => t.post(body).then((r) => r.status)));
    expect(results.filter((s) => s === 204)).toHaveLength(5);
    expect(results.filter((s) => s === 429)).toHaveLength(195);
    expect(t.reports).toHaveLength(5);
    // Another client's report of the same app still gets through, and the app itself is still served.
    expect((await t.post(REPORT, 'abc123', { localAddress: '127.0.0.2' })).status).toBe(204);
    expect((await fetch(`${t.base}/apps/abc123/`)).status).toBe(200);
    await eventually(() => t.gw.connectionCount() <= 1, 8000);
  });

  it('passes hostile text on as it came (the bot cleans and judges it), within 4 KB', async () => {
    const t = await reportGateway();
    const message = '`<!channel>` *bold* \u0000\u202e\n```code``` <@U123>';
    expect((await t.post(JSON.stringify({ message }))).status).toBe(204);
    expect(t.reports[0]!.report.message).toBe(message);
  });

  it("answers reports itself in redirect mode too (Modal): from the app's tunnel, no redirect, no wake", async () => {
    const t = await reportGateway({ redirect: true, sandboxOrigin: async () => 'https://sb-1.modal.host' });
    expect(
      (await t.post('{"message":"from a tunnel page"}', 'abc123', { origin: 'https://sb-1.modal.host' })).status,
    ).toBe(204);
    expect((await t.post('{"message":"from elsewhere"}', 'abc123', { origin: 'https://sb-2.modal.host' })).status).toBe(
      403,
    );
    expect(t.reports.map((r) => r.report.message)).toEqual(['from a tunnel page']);
    expect(t.resolved).toEqual([]);
  });
});
