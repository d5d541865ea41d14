import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { collectPageErrors, launchChromium } from '../support/browser.ts';
import { needs } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';

// VIBE_APP_DOMAIN=localhost: each app on its own origin, `<id>.localhost:<port>`, which Chromium
// resolves to loopback by itself. What one app stores, another cannot read.

describe.runIf(needs('chromium', 'bwrap'))('each app on an origin of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-origins-'));
  let app: VibeApp;
  let browser: Browser;
  beforeAll(async () => {
    const config = loadConfig({
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_PORT: '0',
      VIBE_APP_DOMAIN: 'localhost',
      VIBE_BROWSER: 'off',
      VIBE_DATA_DIR: join(dir, 'data'),
    });
    const model = new OfflineSampleModel({ delayMs: 0, baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
    app = await buildVibeApp(config, pino({ level: 'silent' }), { model });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "links are <id>.localhost, they render, and one app's localStorage is not another's",
    { timeout: 240_000 },
    async () => {
      const conv = new RecordingConversation('shell:general');
      const ctx = { conv, actor: { id: 'shell:ana' }, channelId: conv.channelId };
      await app.bot.command(ctx, 'a todo list');
      await app.bot.command(ctx, 'a pomodoro timer');
      const lives = conv.cards().filter((c) => c.meta?.state === 'live');
      expect(lives, JSON.stringify(conv.cards().at(-1))).toHaveLength(2);
      const port = new URL(app.publicUrl).port;
      const [a, b] = lives.map((c) => c.meta!);
      expect(a!.url).toBe(`http://${a!.appId}.localhost:${port}/`);
      expect(lives[0]!.links?.find((l) => l.kind === 'creator')?.url).toBe(`http://${a!.appId}.localhost:${port}/dev/`);

      const context = await browser.newContext();
      try {
        const pageA = await context.newPage();
        const errors = collectPageErrors(pageA);
        await pageA.goto(a!.url!);
        await pageA.locator('h1').first().waitFor({ timeout: 60_000 });
        expect(errors).toEqual([]);
        await pageA.evaluate(() => localStorage.setItem('todos', 'from app A'));
        const pageB = await context.newPage();
        await pageB.goto(b!.url!);
        await pageB.locator('h1').first().waitFor({ timeout: 60_000 });
        expect(await pageB.evaluate(() => localStorage.getItem('todos'))).toBeNull();
        expect(await pageA.evaluate(() => localStorage.getItem('todos'))).toBe('from app A');
        // Another app's source is not on this origin; the path link sends the browser to the app's origin.
        expect(
          (await pageB.goto(`http://${b!.appId}.localhost:${port}/apps/${a!.appId}/dev/src/App.tsx`))?.status(),
        ).toBe(404);
        await pageB.goto(`${app.publicUrl}/apps/${a!.appId}/`);
        expect(pageB.url()).toBe(a!.url);
        // The creator's live view on the app's origin, with its hot-reload socket.
        const dev = await context.newPage();
        const devErrors = collectPageErrors(dev);
        await dev.goto(`${a!.url}dev/`);
        await dev.locator('h1').first().waitFor({ timeout: 60_000 });
        expect(devErrors).toEqual([]);

        // Another app's page may not read that view's source nor open its socket, even holding
        // the socket's token (read here from A's own page); A's own page may.
        const token = await dev.evaluate(
          async () => /wsToken = "([^"]+)"/.exec(await (await fetch('/dev/@vite/client')).text())?.[1],
        );
        expect(token).toBeTruthy();
        const probe = (args: { origin: string; appId: string; token: string }) =>
          (async () => {
            const read = (path: string) =>
              fetch(`${args.origin}${path}`).then(
                async (r) => ((await r.text()).length > 0 ? 'read' : 'empty'),
                () => 'blocked',
              );
            const socket = await new Promise<string>((resolve) => {
              const ws = new WebSocket(
                `${args.origin.replace(/^http/, 'ws')}/apps/${args.appId}/dev/?token=${args.token}`,
                'vite-hmr',
              );
              ws.onopen = () => (ws.close(), resolve('open'));
              ws.onerror = () => resolve('refused');
            });
            return { source: await read('/dev/src/App.tsx'), client: await read('/dev/@vite/client'), socket };
          })();
        const args = { origin: a!.url!.replace(/\/$/, ''), appId: a!.appId!, token: token! };
        const other = await context.newPage(); // on B's origin (pageB followed the path link to A)
        await other.goto(b!.url!);
        expect(await other.evaluate(probe, args)).toEqual({ source: 'blocked', client: 'blocked', socket: 'refused' });
        expect(await dev.evaluate(probe, args)).toEqual({ source: 'read', client: 'read', socket: 'open' });
      } finally {
        await context.close();
      }
    },
  );
});
