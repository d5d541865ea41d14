import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newId as newAppId } from '../../src/core/ids.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { openAppStore } from '../../src/store/open.ts';
import { appStoreContract, uniqueNamespace } from './app-store-contract.ts';

const dir = await mkdtemp(join(tmpdir(), 'vibe-store-'));
// A folder that does not exist yet: openAppStore must create it.
const url = `sqlite://${join(dir, 'nested', 'vibe.sqlite')}`;

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AppStore on sqlite (temp file)', () => {
  const namespace = uniqueNamespace('sqlite');
  appStoreContract({ open: () => openAppStore(url, { namespace }), sharedBackend: true });
});

describe('sqlite store across restarts', () => {
  const namespace = uniqueNamespace('sqlite_reopen');
  const opened: KeyvAppStore[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
  });

  it('keeps apps, versions, indexes and counters after close and reopen', async () => {
    const first = await openAppStore(url, { namespace });
    opened.push(first);
    const app = await first.createApp({
      id: newAppId(),
      channelId: 'C1',
      threadId: 'T1',
      ownerId: 'U1',
      title: 't',
      summary: 's',
      prompt: 'p',
    });
    const usage = { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 };
    await first.addVersion(app.id, {
      files: { 'src/App.tsx': 'one' },
      instruction: 'p',
      authorId: 'U1',
      usage,
      model: 'm',
    });
    await first.setThread('T1', app.id);
    expect(await first.firstSeen('evt-1', 60_000)).toBe(true);
    await first.close();

    const second = await openAppStore(url, { namespace });
    opened.push(second);
    expect((await second.getApp(app.id))?.latestVersion).toBe(1);
    expect((await second.appForThread('T1'))?.id).toBe(app.id);
    expect((await second.appsInChannel('C1', 5)).items.map((a) => a.id)).toEqual([app.id]);
    expect((await second.getVersion(app.id, 1))?.files['src/App.tsx']).toBe('one');
    expect(await second.firstSeen('evt-1', 60_000)).toBe(false);
    // The counter survived too: the next version is 2, not a second 1.
    const v2 = await second.addVersion(app.id, { files: {}, instruction: 'again', authorId: 'U1', usage, model: 'm' });
    expect(v2.number).toBe(2);
    await second.destroyNamespace();
    expect(await second.getApp(app.id)).toBeUndefined();
  });
});
