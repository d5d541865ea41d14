import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StaleVersionError, UserError } from '../../src/core/errors.ts';
import type { AppRecord, Page, TokenUsage } from '../../src/core/ports/index.ts';
import { newId as newAppId } from '../../src/core/ids.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';

/** A namespace no other run (or test file) uses, so runs never see each other's data. */
export function uniqueNamespace(label: string): string {
  return `t_${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface ContractOptions {
  /** Opens another store on the same backend and namespace (a second process, in effect). */
  open(): Promise<KeyvAppStore>;
  /** False for memory://, where two instances share nothing. */
  sharedBackend: boolean;
}

const usage: TokenUsage = { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0 };

/** The behaviour every AppStore backend must have. */
export function appStoreContract(opts: ContractOptions): void {
  let store: KeyvAppStore;
  let other: KeyvAppStore | undefined;

  beforeAll(async () => {
    store = await opts.open();
    if (opts.sharedBackend) other = await opts.open();
  });

  afterAll(async () => {
    try {
      await store?.destroyNamespace();
    } finally {
      await store?.close();
      await other?.close();
    }
  });

  const tag = () => randomBytes(3).toString('hex');

  async function makeApp(fields: Partial<AppRecord> = {}): Promise<AppRecord> {
    return store.createApp({
      id: newAppId(),
      channelId: `slack:T1:C-${tag()}`,
      threadId: `slack:T1:C1:${Date.now()}.${tag()}`,
      ownerId: `U-${tag()}`,
      title: 'Pomodoro timer',
      summary: 'A timer',
      prompt: 'a pomodoro timer',
      ...fields,
    });
  }

  /** What a create does once the first version is stored: the app's thread now finds it. */
  async function live(app: AppRecord): Promise<AppRecord> {
    await store.addVersion(app.id, { files: {}, instruction: app.prompt, authorId: app.ownerId, usage, model: 'm' });
    await store.setThread(app.threadId, app.id);
    return app;
  }

  const ids = (page: Page<AppRecord>) => page.items.map((a) => a.id);

  it('creates and reads an app', async () => {
    const before = Date.now();
    const app = await makeApp({ ownerName: 'Ada' });
    expect(app.latestVersion).toBe(0);
    expect(app.createdAt).toBeGreaterThanOrEqual(before);
    const read = await store.getApp(app.id);
    expect(read).toEqual(app);
    expect(await store.getApp(newAppId())).toBeUndefined();
    await expect(store.createApp({ ...app })).rejects.toThrow(/already exists/);
  });

  it('updates an app record shallowly and can clear the sandbox id', async () => {
    const app = await makeApp();
    const a = await store.updateApp(app.id, { title: 'New title', sandboxId: 'sb-1' });
    expect(a).toMatchObject({ title: 'New title', sandboxId: 'sb-1', summary: 'A timer', prompt: 'a pomodoro timer' });
    const b = await store.updateApp(app.id, { sandboxId: undefined });
    expect(b.sandboxId).toBeUndefined();
    expect(b.title).toBe('New title');
    expect((await store.getApp(app.id))?.sandboxId).toBeUndefined();
    await expect(store.updateApp(newAppId(), { title: 'x' })).rejects.toThrow();
  });

  it('pages a channel newest first, both ways (7 apps, page size 3)', async () => {
    const channelId = `discord:G1:C-${tag()}`;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await makeApp({ channelId, title: `app ${i}` })).id);
    await makeApp(); // another channel's app must not show up
    const newest = [...made].reverse();

    const p1 = await store.appsInChannel(channelId, 3);
    expect(ids(p1)).toEqual(newest.slice(0, 3));
    expect(p1.prev).toBeUndefined();
    expect(p1.next).toBeDefined();

    const p2 = await store.appsInChannel(channelId, 3, p1.next);
    expect(ids(p2)).toEqual(newest.slice(3, 6));
    expect(p2.prev).toBeDefined();
    expect(p2.next).toBeDefined();

    const p3 = await store.appsInChannel(channelId, 3, p2.next);
    expect(ids(p3)).toEqual(newest.slice(6));
    expect(p3.next).toBeUndefined();
    expect(p3.prev).toBeDefined();

    const back2 = await store.appsInChannel(channelId, 3, p3.prev);
    expect(ids(back2)).toEqual(newest.slice(3, 6));
    expect(back2.next).toBeDefined();
    const back1 = await store.appsInChannel(channelId, 3, back2.prev);
    expect(ids(back1)).toEqual(newest.slice(0, 3));
    expect(back1.prev).toBeUndefined();

    const all = await store.appsInChannel(channelId, 50);
    expect(ids(all)).toEqual(newest);
    expect(all.next).toBeUndefined();
    expect((await store.appsInChannel(`none-${tag()}`, 3)).items).toEqual([]);
  });

  it('skips deleted apps in pages and thread lookups', async () => {
    const channelId = `slack:T1:C-${tag()}`;
    const made: AppRecord[] = [];
    for (let i = 0; i < 7; i++) made.push(await live(await makeApp({ channelId })));
    const [a1, a2, a3, a4, a5, a6, a7] = made as [
      AppRecord,
      AppRecord,
      AppRecord,
      AppRecord,
      AppRecord,
      AppRecord,
      AppRecord,
    ];
    await store.deleteApp(a6.id);
    await store.deleteApp(a3.id);
    await store.deleteApp(a7.id);

    const p1 = await store.appsInChannel(channelId, 3);
    expect(ids(p1)).toEqual([a5.id, a4.id, a2.id]);
    const p2 = await store.appsInChannel(channelId, 3, p1.next);
    expect(ids(p2)).toEqual([a1.id]);
    expect(p2.next).toBeUndefined();
    const back = await store.appsInChannel(channelId, 3, p2.prev);
    expect(ids(back)).toEqual([a5.id, a4.id, a2.id]);
    expect(back.prev).toBeUndefined();

    expect((await store.getApp(a6.id))?.deleted).toBe(true);
    expect(await store.appForThread(a6.threadId)).toBeUndefined();
    expect((await store.appForThread(a5.threadId))?.id).toBe(a5.id);
    // Versions stay; a deleted app takes no new ones.
    await expect(
      store.addVersion(a6.id, { files: {}, instruction: 'x', authorId: 'u', usage, model: 'm' }),
    ).rejects.toThrow(/deleted/);
  });

  it('a concurrent update cannot undo a delete', async () => {
    const app = await makeApp();
    await Promise.all([store.deleteApp(app.id), store.updateApp(app.id, { sandboxId: 'sb-late' })]);
    expect((await store.getApp(app.id))?.deleted).toBe(true);
  });

  it('finds the app for a thread once it has a version, never a half-created one', async () => {
    const app = await makeApp();
    expect(await store.appForThread(app.threadId)).toBeUndefined(); // created, no version yet
    await store.setThread(app.threadId, app.id);
    expect(await store.appForThread(app.threadId)).toBeUndefined(); // mapped, still no version
    await live(app);
    expect((await store.appForThread(app.threadId))?.id).toBe(app.id);
    expect(await store.appForThread(`slack:T1:C1:${tag()}`)).toBeUndefined();

    const moved = `discord:G1:T-${tag()}`;
    await store.setThread(moved, app.id);
    expect((await store.appForThread(moved))?.id).toBe(app.id);

    const renamed = `discord:G1:T-${tag()}`;
    const updated = await store.updateApp(app.id, { threadId: renamed });
    expect(updated.threadId).toBe(renamed);
    expect((await store.appForThread(renamed))?.id).toBe(app.id);

    await store.deleteApp(app.id);
    expect(await store.appForThread(renamed)).toBeUndefined();
  });

  it("lists a user's apps across channels, newest first, paged", async () => {
    const ownerId = `slack:U-${tag()}`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await makeApp({ ownerId, channelId: `slack:T1:C-${tag()}` })).id);
    await makeApp(); // someone else's
    const p1 = await store.appsOfUser(ownerId, 2);
    expect(ids(p1)).toEqual([made[4], made[3]]);
    const p2 = await store.appsOfUser(ownerId, 2, p1.next);
    expect(ids(p2)).toEqual([made[2], made[1]]);
    const p3 = await store.appsOfUser(ownerId, 2, p2.next);
    expect(ids(p3)).toEqual([made[0]]);
    expect(p3.next).toBeUndefined();
  });

  it('refuses a mangled cursor with a message for the user', async () => {
    await expect(store.appsInChannel('c', 3, 'not-a-cursor')).rejects.toBeInstanceOf(UserError);
  });

  it('appends versions and lists them newest first', async () => {
    const app = await makeApp();
    const added = [];
    for (let i = 1; i <= 3; i++) {
      added.push(
        await store.addVersion(app.id, {
          files: { 'src/App.tsx': `export default () => ${i}` },
          instruction: i === 1 ? app.prompt : `change ${i}`,
          authorId: app.ownerId,
          usage,
          model: 'claude-sonnet-4-6',
        }),
      );
    }
    expect(added.map((v) => v.number)).toEqual([1, 2, 3]);
    const list = await store.listVersions(app.id);
    expect(list.map((v) => v.number)).toEqual([3, 2, 1]);
    expect((await store.listVersions(app.id, 2)).map((v) => v.number)).toEqual([3, 2]);
    expect(await store.getVersion(app.id, 2)).toEqual(added[1]);
    expect(await store.getVersion(app.id, 4)).toBeUndefined();
    const read = await store.getApp(app.id);
    expect(read?.latestVersion).toBe(3);
    expect(read?.updatedAt).toBeGreaterThanOrEqual(added[2]!.createdAt);
  });

  it('stores a version at the size caps (40 files of 200 KB)', async () => {
    const app = await makeApp();
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`src/f${i}.ts`] = `// ${i}\n`.padEnd(200 * 1024, 'x');
    const v = await store.addVersion(app.id, { files, instruction: 'big', authorId: 'u', usage, model: 'm' });
    const back = await store.getVersion(app.id, v.number);
    expect(Object.keys(back?.files ?? {})).toHaveLength(40);
    expect(back?.files['src/f39.ts']).toBe(files['src/f39.ts']);
  });

  it('loses no version to 20 concurrent addVersion calls', async () => {
    const app = await makeApp();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.addVersion(app.id, {
          files: { 'src/App.tsx': `v${i}` },
          instruction: `edit ${i}`,
          authorId: 'u',
          usage,
          model: 'm',
        }),
      ),
    );
    expect(results.map((r) => r.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await store.getApp(app.id))?.latestVersion).toBe(20);
    const listed = await store.listVersions(app.id, 100);
    expect(listed.map((v) => v.number)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    expect(new Set(listed.map((v) => v.instruction)).size).toBe(20);
  });

  it('keeps latestVersion monotonic while the record is updated concurrently', async () => {
    const app = await makeApp();
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      work.push(store.addVersion(app.id, { files: {}, instruction: `e${i}`, authorId: 'u', usage, model: 'm' }));
      work.push(store.updateApp(app.id, { sandboxId: `sb-${i}` }));
    }
    await Promise.all(work);
    expect((await store.getApp(app.id))?.latestVersion).toBe(10);
  });

  // Only a shared backend has a second instance to race with (memory:// instances share nothing).
  if (opts.sharedBackend) {
    it('loses no version when two store instances append at once', async () => {
      const app = await makeApp();
      const second = other!;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? second : store).addVersion(app.id, {
            files: { 'src/App.tsx': `v${i}` },
            instruction: `edit ${i}`,
            authorId: 'u',
            usage,
            model: 'm',
          }),
        ),
      );
      expect(results.map((r) => r.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await store.getApp(app.id))?.latestVersion).toBe(20);
      expect((await second.getApp(app.id))?.latestVersion).toBe(20);
      expect((await second.listVersions(app.id, 100)).map((v) => v.number)).toEqual(
        Array.from({ length: 20 }, (_, i) => 20 - i),
      );
    });

    it('indexes apps created by two instances at once without losing any', async () => {
      const channelId = `slack:T1:C-${tag()}`;
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other! : store).createApp({
            id: newAppId(),
            channelId,
            threadId: `t-${tag()}`,
            ownerId: 'U1',
            title: `a${i}`,
            summary: '',
            prompt: 'p',
          }),
        ),
      );
      const page = await other!.appsInChannel(channelId, 20);
      expect(new Set(ids(page))).toEqual(new Set(made.map((a) => a.id)));
    });
  }

  it('firstSeen is true exactly once under concurrency', async () => {
    const key = `event-${tag()}`;
    const stores = opts.sharedBackend ? [store, other!] : [store];
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.firstSeen(key, 60_000)),
    );
    expect(seen.filter(Boolean)).toHaveLength(1);
    expect(await store.firstSeen(`event-${tag()}`, 60_000)).toBe(true);
  });

  it('tally adds up per key, negative amounts included, and tallies reads without adding', async () => {
    const [a, b] = [`builds-${tag()}`, `tokens-${tag()}`];
    expect(await store.tally([a], 3, 60_000)).toEqual([3]);
    expect(await store.tally([a, b], 4, 60_000)).toEqual([7, 4]);
    expect(await store.tally([a], -2, 60_000)).toEqual([5]);
    expect(await store.tallies([b, `none-${tag()}`, a])).toEqual([4, 0, 5]);
    expect(await store.tallies([])).toEqual([]);
    expect(await store.tally([], 1, 60_000)).toEqual([]);
  });

  it('tally starts again from 0 once the window has passed', async () => {
    const key = `builds-${tag()}`;
    expect(await store.tally([key], 5, 300)).toEqual([5]);
    await new Promise((r) => setTimeout(r, 450));
    expect(await store.tallies([key])).toEqual([0]);
    expect(await store.tally([key], 2, 300)).toEqual([2]);
  });

  it('a later tally does not extend the window', async () => {
    const key = `builds-${tag()}`;
    expect(await store.tally([key], 1, 600)).toEqual([1]);
    await new Promise((r) => setTimeout(r, 350));
    expect(await store.tally([key], 1, 600)).toEqual([2]); // still the first window
    await new Promise((r) => setTimeout(r, 400)); // past the first add's 600 ms, short of the second's
    expect(await store.tallies([key])).toEqual([0]);
    expect(await store.tally([key], 1, 600)).toEqual([1]);
  });

  it('loses no tally to 50 concurrent adds (from two instances on a shared backend)', async () => {
    const key = `tokens-${tag()}`;
    const stores = opts.sharedBackend ? [store, other!] : [store];
    const totals = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stores[i % stores.length]!.tally([key], 1, 60_000)),
    );
    expect(totals.map(([t]) => t).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const s of stores) expect(await s.tallies([key])).toEqual([50]);
  });

  it('firstSeen is true again after the TTL', async () => {
    const key = `event-${tag()}`;
    expect(await store.firstSeen(key, 300)).toBe(true);
    expect(await store.firstSeen(key, 300)).toBe(false);
    await new Promise((r) => setTimeout(r, 450));
    const again = await Promise.all(Array.from({ length: 10 }, () => store.firstSeen(key, 300)));
    expect(again.filter(Boolean)).toHaveLength(1);
  });

  it('stores blobs once by key, bytes intact, and counts only new bytes', async () => {
    const bytes = randomBytes(3000);
    const key = createHash('sha256').update(bytes).digest('hex');
    const before = await store.blobs.storedBytes();
    expect(await store.blobs.get(key)).toBeUndefined();
    const stores = opts.sharedBackend ? [store, other!] : [store];
    expect(await stores[0]!.blobs.put(key, bytes)).toBe(true);
    expect(await stores[stores.length - 1]!.blobs.put(key, bytes)).toBe(false);
    expect(Buffer.from((await stores[stores.length - 1]!.blobs.get(key))!).equals(bytes)).toBe(true);
    expect((await store.blobs.storedBytes()) - before).toBe(3000);
    await expect(store.blobs.put('../etc/passwd', bytes)).rejects.toThrow(/invalid blob key/);
    expect(await store.blobs.get('nothex')).toBeUndefined();
  });

  it('publishes manifests: publishedVersion never goes down, and assets of any version are found', async () => {
    const app = await makeApp();
    expect((await store.getApp(app.id))?.publishedVersion).toBeUndefined();
    const file = (hash: string) => ({ hash, type: 'text/javascript; charset=utf-8', size: 10 });
    const manifest = (version: number, asset: string) => ({
      appId: app.id,
      version,
      source: `s${version}`,
      files: { 'index.html': file('a'.repeat(64)), [asset]: file(String(version).repeat(64)) },
      publishedAt: 1,
    });
    await store.addManifest(manifest(2, 'assets/index-two.js'));
    await store.addManifest(manifest(1, 'assets/index-one.js'));
    expect((await store.getApp(app.id))?.publishedVersion).toBe(2);
    expect((await store.getManifest(app.id, 1))?.source).toBe('s1');
    expect(await store.getManifest(app.id, 3)).toBeUndefined();
    expect((await store.getPublishedAsset(app.id, 'assets/index-one.js'))?.hash).toBe('1'.repeat(64));
    expect(await store.getPublishedAsset(app.id, 'assets/none.js')).toBeUndefined();
    // A record update (title, sandbox id) leaves the published version alone.
    await store.updateApp(app.id, { title: 'renamed' });
    expect((await store.getApp(app.id))?.publishedVersion).toBe(2);
  });

  it('refuses a stale expectLatest and stores nothing; the right one appends', async () => {
    const app = await makeApp();
    const v = (instruction: string) => ({ files: {}, instruction, authorId: 'u', usage, model: 'm' });
    expect((await store.addVersion(app.id, v('one'), { expectLatest: 0 })).number).toBe(1);
    expect((await store.addVersion(app.id, v('two'), { expectLatest: 1 })).number).toBe(2);
    const stale = store.addVersion(app.id, v('lost'), { expectLatest: 1 });
    await expect(stale).rejects.toBeInstanceOf(StaleVersionError);
    await expect(stale).rejects.toMatchObject({ expected: 1, latest: 2 });
    expect((await store.getApp(app.id))?.latestVersion).toBe(2);
    expect((await store.listVersions(app.id)).map((x) => x.instruction)).toEqual(['two', 'one']);
  });

  it('of concurrent compare-and-set appends on one latest, exactly one wins (two instances where shared)', async () => {
    const app = await makeApp();
    const stores = opts.sharedBackend ? [store, other!] : [store];
    const v = { files: {}, instruction: 'x', authorId: 'u', usage, model: 'm' };
    await store.addVersion(app.id, v);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => stores[i % stores.length]!.addVersion(app.id, v, { expectLatest: 1 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.getApp(app.id))?.latestVersion).toBe(2);
  });

  it('steps over a version number whose writer died before writing it', async () => {
    const app = await makeApp();
    const v = { files: {}, instruction: 'x', authorId: 'u', usage, model: 'm' };
    await store.addVersion(app.id, v);
    await store.primitives.incr(`${store.keys.versionSeq(app.id)}`); // taken, never written
    const next = await store.addVersion(app.id, v, { expectLatest: 1 });
    expect(next.number).toBe(3);
    expect((await store.listVersions(app.id)).map((x) => x.number)).toEqual([3, 1]);
  });

  it('concurrent updates of different fields lose none (two instances where shared)', async () => {
    const app = await makeApp();
    const stores = opts.sharedBackend ? [store, other!] : [store];
    await Promise.all([
      stores[0]!.updateApp(app.id, { title: 'New title' }),
      stores[stores.length - 1]!.updateApp(app.id, { sandboxId: 'sb-1', sandboxUrl: 'https://x' }),
      store.updateApp(app.id, { summary: 'New summary' }),
    ]);
    expect(await store.getApp(app.id)).toMatchObject({
      title: 'New title',
      summary: 'New summary',
      sandboxId: 'sb-1',
      sandboxUrl: 'https://x',
    });
    await store.updateApp(app.id, { sandboxId: undefined, title: undefined });
    const after = await store.getApp(app.id);
    expect(after?.sandboxId).toBeUndefined();
    expect(after?.title).toBe('New title');
  });

  it('a lease has one holder at a time, only its holder renews or releases it, and it runs out', async () => {
    const key = `${store.keys.prefix}lease-${tag()}`;
    const p = store.primitives;
    const others = opts.sharedBackend ? other!.primitives : p;
    const got = await Promise.all([p.lease(key, 'a', 400), others.lease(key, 'b', 400), p.lease(key, 'c', 400)]);
    expect(got.filter(Boolean)).toHaveLength(1);
    const holder = ['a', 'b', 'c'][got.indexOf(true)]!;
    expect(await p.renewLease(key, 'not-the-holder', 400)).toBe(false);
    expect(await others.renewLease(key, holder, 400)).toBe(true);
    await p.releaseLease(key, 'not-the-holder');
    expect(await p.lease(key, 'd', 400)).toBe(false);
    await p.releaseLease(key, holder);
    expect(await others.lease(key, 'e', 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 450));
    expect(await p.renewLease(key, 'e', 300)).toBe(false); // ran out
    expect(await p.lease(key, 'f', 300)).toBe(true);
  });
}
