import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { FileMap, VersionRecord } from '../../src/core/ports/index.ts';
import { Publisher } from '../../src/core/apps/publisher.ts';
import { sourceHash } from '../../src/core/apps/source-hash.ts';
import { openAppStore } from '../../src/store/open.ts';

// The Publisher over a real (memory) store, with the sandbox's side played by a stub runtime
// that hands over a given build: what is stored, what is shared, what is refused.

const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
const VENDOR = Buffer.from('export const react = 1;\n'.repeat(400)); // shared by every app
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function setup() {
  const store = await openAppStore('memory://');
  const builds: string[] = [];
  let build = (appId: string) =>
    new Map<string, Uint8Array>([
      ['index.html', Buffer.from(`<html><head></head><body>${appId}</body></html>`)],
      ['assets/react-AbC1.js', VENDOR],
      [`assets/index-${appId}.js`, Buffer.from(`console.log(${JSON.stringify(appId)});`)],
    ]);
  const runtime = {
    canPublish: true,
    lightBuild: async (appId: string, source: string) => {
      builds.push(`${appId}:${source}`);
      return build(appId);
    },
    pinned: <T>(_: string, task: () => Promise<T>) => task(),
    ensure: async () => ({ id: 'x', url: 'http://x' }),
  } as unknown as AppRuntime;
  const publisher = new Publisher({ store, runtime, logger: pino({ level: 'silent' }) });
  const published: string[] = [];
  publisher.onPublished((appId, v) => published.push(`${appId}@${v}`));
  async function app(id: string, files: FileMap = { 'src/App.tsx': id }): Promise<VersionRecord> {
    await store.createApp({
      id,
      channelId: 'c',
      threadId: `t-${id}`,
      ownerId: 'u',
      title: id,
      summary: '',
      prompt: '',
    });
    return store.addVersion(id, { files, instruction: 'p', authorId: 'u', usage, model: 'm' });
  }
  return { store, publisher, builds, published, app, setBuild: (f: typeof build) => (build = f) };
}

describe('Publisher', () => {
  it('stores each file once by its hash, with brotli and gzip where they pay, and a manifest', async () => {
    const { store, publisher, builds, published, app } = await setup();
    const v1 = await app('pubone01');
    const m = (await publisher.publish('pubone01', v1))!;
    expect(builds).toEqual([`pubone01:${sourceHash(v1.files)}`]); // asked for exactly this version's build
    expect(published).toEqual(['pubone01@1']);
    expect((await store.getApp('pubone01'))?.publishedVersion).toBe(1);
    const react = m.files['assets/react-AbC1.js']!;
    expect(react).toMatchObject({ hash: sha(VENDOR), size: VENDOR.length, type: 'text/javascript; charset=utf-8' });
    expect(react.br).toBeLessThan(VENDOR.length / 10);
    expect(brotliDecompressSync((await store.blobs.get(`${react.hash}.br`))!).equals(VENDOR)).toBe(true);
    expect(gunzipSync((await store.blobs.get(`${react.hash}.gz`))!).equals(VENDOR)).toBe(true);
    expect(m.files['index.html']!.br).toBeUndefined(); // under 512 bytes: sent as it is

    // A second app shares the vendor chunk: only its own two small files are new.
    const before = await store.blobs.storedBytes();
    await publisher.publish('pubtwo02', await app('pubtwo02'));
    const added = (await store.blobs.storedBytes()) - before;
    expect(added).toBeLessThan(200);
    expect(added).toBeGreaterThan(0);
  });

  it('a restore of a published version copies its manifest and asks the sandbox for nothing', async () => {
    const { store, publisher, builds, app } = await setup();
    const v1 = await app('restore01');
    await publisher.publish('restore01', v1);
    const v2 = await store.addVersion('restore01', {
      files: { 'src/App.tsx': 'changed' },
      instruction: 'c',
      authorId: 'u',
      usage,
      model: 'm',
    });
    await publisher.publish('restore01', v2);
    const v3 = await store.addVersion('restore01', {
      files: v1.files,
      instruction: 'restore v1',
      authorId: 'u',
      usage,
      model: 'none',
      basedOn: 1,
    });
    const asked = builds.length;
    const m3 = (await publisher.publish('restore01', v3))!;
    expect(builds).toHaveLength(asked);
    expect(m3.version).toBe(3);
    expect(m3.files).toEqual((await store.getManifest('restore01', 1))!.files);
    expect((await store.getApp('restore01'))?.publishedVersion).toBe(3);
  });

  it('refuses a build over 8 MiB and stores nothing of it', async () => {
    const { store, publisher, app, setBuild } = await setup();
    setBuild(() => new Map([['index.html', Buffer.alloc(9 << 20, 'a')]]));
    const v1 = await app('bigbuild1');
    const before = await store.blobs.storedBytes();
    await expect(publisher.publish('bigbuild1', v1)).rejects.toThrow(/over the 8 MiB/);
    expect(await store.blobs.storedBytes()).toBe(before);
    expect((await store.getApp('bigbuild1'))?.publishedVersion).toBeUndefined();
  });

  it('publishLatest publishes an unpublished newest version once for concurrent callers', async () => {
    const { publisher, builds, app } = await setup();
    await app('lazyapp1');
    const [a, b] = await Promise.all([publisher.publishLatest('lazyapp1'), publisher.publishLatest('lazyapp1')]);
    expect(a?.version).toBe(1);
    expect(b).toBe(a);
    expect(builds).toHaveLength(1);
    expect((await publisher.publishLatest('lazyapp1'))?.version).toBe(1); // already published: read, not built
    expect(builds).toHaveLength(1);
  });
});
