import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { FileMap } from '../../src/core/ports/index.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { collectPageErrors, launchChromium } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';

// Published builds: an app's link is served from the store, with no sandbox, once its version
// passed its checks; a new version reaches an open page by itself; /v/<n>/ pins a version.

describe.runIf(needs('chromium', 'bwrap'))('published builds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-published-'));
  const model = new ScriptedModel();
  let app: VibeApp;
  let browser: Browser;
  let base: FileMap;
  let boots = 0;
  const conv = new RecordingConversation('shell:general');
  const ctx = { conv, actor: { id: 'shell:ana' }, channelId: conv.channelId };
  const files = (heading: string, extra = ''): FileMap => ({
    ...base,
    'src/App.tsx': `import { useState } from 'react';\n${extra}\nexport default function App() {\n  const [n, setN] = useState(0);\n  return (\n    <main className="p-8">\n      <h1>${heading}</h1>\n      <button onClick={() => setN(n + 1)}>clicked {n}</button>\n    </main>\n  );\n}\n`,
  });

  beforeAll(async () => {
    base = (await loadTemplate(TEMPLATE_DIR)).templateFiles;
    const config = loadConfig({
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_PORT: '0',
      VIBE_APP_DOMAIN: 'localhost',
      VIBE_BROWSER: 'off',
      VIBE_DATA_DIR: join(dir, 'data'),
      VIBE_APPS_DIR: join(dir, 'apps'),
    });
    app = await buildVibeApp(config, pino({ level: 'silent' }), { model });
    const boot = app.sandbox.boot.bind(app.sandbox);
    app.sandbox.boot = (...args) => {
      boots++;
      return boot(...args);
    };
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const live = () => conv.cards().filter((c) => c.meta?.state === 'live');

  it(
    'serves the link from the store with caching headers, and with its sandbox stopped, starts none',
    { timeout: 240_000 },
    async () => {
      model.script({ files: files('Hello one'), title: 'Hello' });
      await app.bot.command(ctx, 'a hello app');
      const card = live().at(-1);
      expect(card, JSON.stringify(conv.cards().at(-1))).toBeDefined();
      const { appId, url } = card!.meta!;
      const stored = await app.store.getApp(appId!);
      expect(stored?.publishedVersion).toBe(1);
      const manifest = (await app.store.getManifest(appId!, 1))!;
      const paths = Object.keys(manifest.files);
      expect(paths).toContain('index.html');
      expect(paths.some((p) => /^assets\/react-[\w-]+\.js$/.test(p))).toBe(true);

      await app.runtime.stop(appId!);
      expect(app.runtime.isRunning(appId!)).toBe(false);
      boots = 0;
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const html = await page.text();
      expect(html).toContain('EventSource');
      const etag = page.headers.get('etag')!;
      expect((await fetch(url!, { headers: { 'if-none-match': etag } })).status).toBe(304);
      const script = /src="([^"]+\.js)"/.exec(html)![1]!;
      const asset = await fetch(new URL(script, url!), { headers: { 'accept-encoding': 'br' } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect(asset.headers.get('content-encoding')).toBe('br');
      expect((await asset.text()).length).toBeGreaterThan(100); // fetch decodes brotli

      const context = await browser.newContext();
      try {
        const tab = await context.newPage();
        const errors = collectPageErrors(tab);
        await tab.goto(url!);
        await tab.getByRole('heading', { name: 'Hello one' }).waitFor({ timeout: 30_000 });
        await tab.getByRole('button').click();
        await tab.getByText('clicked 1').waitFor({ timeout: 10_000 });
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
      expect(boots).toBe(0);
      expect(app.runtime.isRunning(appId!)).toBe(false);
    },
  );

  it(
    'a refinement reaches an open page by itself, and /v/1/ still serves the first version',
    { timeout: 240_000 },
    async () => {
      const first = live().at(-1)!.meta!;
      const context = await browser.newContext();
      try {
        const tab = await context.newPage();
        await tab.goto(first.url!);
        await tab.getByRole('heading', { name: 'Hello one' }).waitFor({ timeout: 30_000 });
        model.script({ files: files('Hello two') });
        const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
        await app.bot.threadMessage({ ...ctx, threadId: thread }, 'say two');
        expect(live().at(-1)!.meta).toMatchObject({ version: 2 });
        expect((await app.store.getApp(first.appId!))?.publishedVersion).toBe(2);
        await tab.getByRole('heading', { name: 'Hello two' }).waitFor({ timeout: 30_000 });

        const pinned = await context.newPage();
        await pinned.goto(`${first.url}v/1/`);
        await pinned.getByRole('heading', { name: 'Hello one' }).waitFor({ timeout: 30_000 });
        expect((await fetch(`${first.url}v/9/`)).status).toBe(404);
        // The newest version shares v1's vendor chunks: the React chunk is the same blob.
        const [m1, m2] = await Promise.all([
          app.store.getManifest(first.appId!, 1),
          app.store.getManifest(first.appId!, 2),
        ]);
        const react = (m: typeof m1) => Object.entries(m!.files).find(([p]) => p.includes('/react-'))![1].hash;
        expect(react(m2)).toBe(react(m1));
      } finally {
        await context.close();
      }
    },
  );

  it('stores identical vendor chunks once across apps', { timeout: 240_000 }, async () => {
    const before = await app.store.blobs.storedBytes();
    model.script({ files: files('Another app', "import { Plus } from 'lucide-react';\nvoid Plus;"), title: 'Other' });
    await app.bot.command(ctx, 'another app');
    const other = live().at(-1)!.meta!.appId!;
    const m = (await app.store.getManifest(other, 1))!;
    // The largest of React's files: the library's code (the others say what each module exports).
    const [react] = Object.entries(m.files)
      .filter(([p]) => p.includes('/react-'))
      .sort(([, a], [, b]) => b.size - a.size);
    expect(react).toBeDefined();
    const added = (await app.store.blobs.storedBytes()) - before;
    // Only this app's own files are new: far less than the React chunk alone.
    expect(added).toBeLessThan(react![1].size / 4);
    const first = live()[0]!.meta!.appId!;
    const m1 = (await app.store.getManifest(first, 1))!;
    expect(Object.values(m1.files).map((f) => f.hash)).toContain(react![1].hash);
  });

  it('an app stored before publishing is built once, on its first view', { timeout: 240_000 }, async () => {
    const id = 'oldapp01';
    await app.store.createApp({
      id,
      channelId: conv.channelId,
      threadId: 'old-thread',
      ownerId: 'shell:ana',
      title: 'Old',
      summary: '',
      prompt: 'old',
    });
    await app.store.addVersion(id, {
      files: files('Old app'),
      instruction: 'old',
      authorId: 'shell:ana',
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      model: 'scripted',
    });
    boots = 0;
    const url = `http://${id}.localhost:${new URL(app.publicUrl).port}/`;
    const [a, b] = await Promise.all([fetch(url), fetch(url)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await a.text()).toContain('EventSource');
    expect(boots).toBe(1);
    expect((await app.store.getApp(id))?.publishedVersion).toBe(1);
    await app.runtime.stop(id);
    expect((await fetch(url)).status).toBe(200);
    expect(boots).toBe(1);
    await app.store.deleteApp(id);
    await eventually(async () => expect((await fetch(url)).status).toBe(404));
  });
});
