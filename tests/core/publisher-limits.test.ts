import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { Publisher } from '../../src/core/apps/publisher.ts';
import { openAppStore } from '../../src/store/open.ts';

// Issue 20, item 6: what one publish may cost the bot. A published manifest is capped in files
// and in the length of their paths (it is kept for good and cached by every viewer's process),
// and compressing a build never holds the event loop (the gateway serves everyone on it).

const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

async function setup(build: () => Map<string, Uint8Array>) {
  const store = await openAppStore('memory://');
  const runtime = {
    canPublish: true,
    lightBuild: async () => build(),
    pinned: <T>(_: string, task: () => Promise<T>) => task(),
    ensure: async () => ({ id: 'x', url: 'http://x' }),
  } as unknown as AppRuntime;
  const publisher = new Publisher({ store, runtime, logger: pino({ level: 'silent' }) });
  await store.createApp({
    id: 'limits01',
    channelId: 'c',
    threadId: 't',
    ownerId: 'u',
    title: 't',
    summary: '',
    prompt: '',
  });
  const version = await store.addVersion('limits01', {
    files: { 'src/App.tsx': 'x' },
    instruction: 'p',
    authorId: 'u',
    usage,
    model: 'm',
  });
  return { store, publisher, version };
}

const page = Buffer.from('<html><head></head><body>x</body></html>');

describe('Publisher limits', () => {
  it('refuses a build of more files than a published version may list, storing nothing', async () => {
    const files = new Map<string, Uint8Array>([['index.html', page]]);
    for (let i = 0; i < 1000; i++) files.set(`assets/chunk-${i}.js`, Buffer.from(`export default ${i};`));
    const { store, publisher, version } = await setup(() => files);
    await expect(publisher.publish('limits01', version)).rejects.toThrow(/1001 files/);
    expect(await store.blobs.storedBytes()).toBe(0);
    expect(await store.getManifest('limits01', 1)).toBeUndefined();
  });

  it('refuses a file path longer than a manifest entry may be (a few segments of Vite output)', async () => {
    const deep = `${'a/'.repeat(2000)}x.js`; // every segment short, the path 4 KB
    const { store, publisher, version } = await setup(
      () =>
        new Map([
          ['index.html', page],
          [deep, Buffer.from('1')],
        ]),
    );
    await expect(publisher.publish('limits01', version)).rejects.toThrow(/path/);
    expect(await store.blobs.storedBytes()).toBe(0);
  });

  it('compresses off the event loop: other work runs while a large file is compressed', async () => {
    // 1 MiB that compresses (brotli at quality 9 takes tens of milliseconds here).
    const big = Buffer.from(Array.from({ length: 1 << 14 }, () => randomBytes(32).toString('hex')).join('\n'));
    const { store, publisher, version } = await setup(
      () =>
        new Map([
          ['index.html', page],
          ['assets/big.js', big],
        ]),
    );
    // Did the event loop turn between the start of the publish and the first compressed
    // variant being stored? With synchronous compression it cannot: nothing before it waits on I/O.
    let turned = false;
    const put = store.blobs.put.bind(store.blobs);
    let turnedAtFirstVariant: boolean | undefined;
    store.blobs.put = async (key, bytes) => {
      if (/\.(br|gz)$/.test(key)) turnedAtFirstVariant ??= turned;
      return put(key, bytes);
    };
    const publishing = publisher.publish('limits01', version);
    setImmediate(() => (turned = true));
    const m = (await publishing)!;
    expect(m.files['assets/big.js']!.br).toBeLessThan(big.length);
    expect(turnedAtFirstVariant).toBe(true);
  });
});
