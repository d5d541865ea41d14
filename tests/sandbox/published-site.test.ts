import { createHash } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceHash } from '../../src/core/apps/source-hash.ts';
import type { BuildManifest, PublishedFile } from '../../src/core/ports/index.ts';
import { AppGateway } from '../../src/sandbox/gateway.ts';
import { PublishedSite } from '../../src/sandbox/published-site.ts';
import { openAppStore } from '../../src/store/open.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { sourceHash as templateSourceHash } from '../../sandbox-template/vibe-plugins/source-hash.ts';
import { eventually } from '../support/eventually.ts';

// The light view served from the store: no sandbox (resolve throws if the gateway ever asks
// for one), over a real gateway on loopback, with the app on its own origin.

const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('the published site', () => {
  let store: KeyvAppStore;
  let gateway: AppGateway;
  let site: PublishedSite;
  let port = 0;
  let publishes = 0;
  let publishLatest: (appId: string) => Promise<BuildManifest | undefined> = async () => undefined;

  async function put(path: string, body: string, type: string): Promise<PublishedFile> {
    const bytes = Buffer.from(body);
    const hash = createHash('sha256').update(bytes).digest('hex');
    await store.blobs.put(hash, bytes);
    const gz = gzipSync(bytes);
    await store.blobs.put(`${hash}.gz`, gz);
    return { hash, type, size: bytes.length, gz: gz.length };
  }

  async function publishedApp(id: string, versions: string[]): Promise<void> {
    await store.createApp({
      id,
      channelId: 'c',
      threadId: `t-${id}`,
      ownerId: 'u',
      title: id,
      summary: '',
      prompt: '',
    });
    for (const [i, text] of versions.entries()) {
      await store.addVersion(id, { files: {}, instruction: '', authorId: 'u', usage, model: 'x' });
      const js = await put('', `console.log(${JSON.stringify(text)});`.repeat(40), 'text/javascript; charset=utf-8');
      const html = await put(
        '',
        `<!doctype html><html><head><script type="module" src="/apps/${id}/assets/index-${i + 1}.js"></script></head><body>${text}</body></html>`,
        'text/html; charset=utf-8',
      );
      await store.addManifest({
        appId: id,
        version: i + 1,
        source: `s${i}`,
        files: { 'index.html': html, [`assets/index-${i + 1}.js`]: js },
        publishedAt: 1,
      });
    }
  }

  function get(appId: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path, method, headers: { host: `${appId}.localhost:${port}`, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  beforeAll(async () => {
    store = await openAppStore('memory://');
    site = new PublishedSite({
      store,
      logger: pino({ level: 'silent' }),
      publishLatest: (id) => {
        publishes++;
        return publishLatest(id);
      },
      pollMs: 100,
    });
    gateway = new AppGateway({
      logger: pino({ level: 'silent' }),
      appDomain: 'localhost',
      appOrigin: (id) => `http://${id}.localhost:${port}`,
      published: site,
      resolve: () => Promise.reject(new Error('no sandbox may be asked for')),
    });
    port = (await gateway.listen(0, '127.0.0.1')).port;
    await publishedApp('pubapp01', ['first', 'second']);
  });
  afterAll(async () => {
    site?.close();
    await gateway?.close();
    await store?.close();
  });

  it('agrees with the template on what a source hash is', () => {
    const files = { 'src/b.ts': 'b', 'src/App.tsx': 'export default 1;\n', 'src/z/ü.css': 'x' };
    expect(sourceHash(files)).toBe(templateSourceHash(files));
    expect(sourceHash(files)).not.toBe(sourceHash({ ...files, 'src/b.ts': 'c' }));
  });

  it('serves the newest version with a reload script, pinned versions without, and SPA routes', async () => {
    const root = await get('pubapp01', '/');
    expect(root.status).toBe(200);
    expect(root.body.toString()).toContain('second');
    expect(root.body.toString()).toContain('EventSource("/apps/pubapp01/__vibe/events")');
    expect(root.headers['cache-control']).toBe('no-cache');
    expect((await get('pubapp01', '/', { 'if-none-match': root.headers.etag! })).status).toBe(304);
    const route = await get('pubapp01', '/some/route');
    expect(route.body.toString()).toContain('second');
    const v1 = await get('pubapp01', '/v/1/');
    expect(v1.body.toString()).toContain('first');
    expect(v1.body.toString()).not.toContain('EventSource');
    expect(v1.headers.etag).not.toBe(root.headers.etag);
    expect(await get('pubapp01', '/v/1')).toMatchObject({ status: 302, headers: { location: '1/' } });
    expect((await get('pubapp01', '/v/3/')).status).toBe(404);
    expect((await get('pubapp01', '/v/0/')).status).toBe(404);
  });

  it('serves assets of any version, immutable and compressed, and 404s for missing files', async () => {
    // v1's page asks for v1's asset by its own name, though v2 is the newest.
    const old = await get('pubapp01', '/apps/pubapp01/assets/index-1.js', { 'accept-encoding': 'gzip, br' });
    expect(old.status).toBe(200);
    expect(old.headers['content-encoding']).toBe('gzip');
    expect(old.headers['cache-control']).toContain('immutable');
    const plain = await get('pubapp01', '/assets/index-2.js', { 'accept-encoding': 'gzip;q=0' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toContain('second');
    expect((await get('pubapp01', '/assets/index-2.js', { 'if-none-match': plain.headers.etag! })).status).toBe(304);
    expect((await get('pubapp01', '/assets/nope.js')).status).toBe(404);
    expect((await get('pubapp01', '/favicon.ico')).status).toBe(404);
    const head = await get('pubapp01', '/assets/index-2.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect((await get('pubapp01', '/', {}, 'POST')).status).toBe(405);
    expect((await get('pubapp01', '/%E0%A4%A')).status).toBe(400);
  });

  it("treats Object's own names as paths like any other: the app's page or 404, never 500", async () => {
    for (const path of [
      '/constructor',
      '/__proto__',
      '/toString',
      '/hasOwnProperty',
      '/v/1/valueOf',
      '/v/1/__proto__',
    ]) {
      const res = await get('pubapp01', path);
      expect(res.status, path).toBe(200);
      expect(res.body.toString(), path).toContain(path.startsWith('/v/1/') ? 'first' : 'second');
    }
    for (const path of ['/constructor.js', '/assets/__proto__', '/assets/constructor'])
      expect((await get('pubapp01', path)).status, path).toBe(404);
  });

  it('answers 404 for an app that does not exist or was deleted, and never asks for a sandbox', async () => {
    expect((await get('nosuchapp', '/')).status).toBe(404);
    await publishedApp('pubapp02', ['gone soon']);
    expect((await get('pubapp02', '/')).status).toBe(200);
    await store.deleteApp('pubapp02');
    expect((await get('pubapp02', '/')).status).toBe(404);
    expect((await get('pubapp02', '/assets/index-1.js')).status).toBe(404);
  });

  it('an app with nothing published is published on its first view; busy gets a retry page', async () => {
    await store.createApp({
      id: 'pubapp03',
      channelId: 'c',
      threadId: 't3',
      ownerId: 'u',
      title: '',
      summary: '',
      prompt: '',
    });
    await store.addVersion('pubapp03', { files: {}, instruction: '', authorId: 'u', usage, model: 'x' });
    publishLatest = async () => {
      const err = new Error('busy');
      err.name = 'RuntimeBusyError';
      throw err;
    };
    const busy = await get('pubapp03', '/');
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    publishLatest = async (id) => {
      const html = await put('', '<html><head></head><body>built late</body></html>', 'text/html; charset=utf-8');
      const m = { appId: id, version: 1, source: 's', files: { 'index.html': html }, publishedAt: 1 };
      await store.addManifest(m);
      return m;
    };
    const before = publishes;
    expect((await get('pubapp03', '/')).body.toString()).toContain('built late');
    expect((await get('pubapp03', '/')).body.toString()).toContain('built late');
    expect(publishes - before).toBe(1); // published once; the second view read the store
  });

  it('tells open pages of a new version, announced here or found in the store', async () => {
    const events: string[] = [];
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/__vibe/events',
      headers: { host: `pubapp01.localhost:${port}` },
    });
    req.on('response', (res) => res.on('data', (c: Buffer) => events.push(c.toString())));
    req.end();
    try {
      await eventually(() => events.join('').includes('data: 2'));
      await publishedApp('pubapp04', ['x']); // another app's version: not this page's business
      site.announce('pubapp01', 3);
      await eventually(() => events.join('').includes('data: 3'));
      // A version another bot process published: the poll finds it.
      await store.addVersion('pubapp01', { files: {}, instruction: '', authorId: 'u', usage, model: 'x' });
      await store.addVersion('pubapp01', { files: {}, instruction: '', authorId: 'u', usage, model: 'x' });
      const m = (await store.getManifest('pubapp01', 2))!;
      await store.addManifest({ ...m, version: 4 });
      await eventually(() => events.join('').includes('data: 4'));
      expect(events.join('')).not.toContain('data: 1\n');
    } finally {
      req.destroy();
    }
  });
});
