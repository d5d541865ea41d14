/// <reference lib="dom" />
// The first view of an app's links, as a person on a phone would get it: bytes, requests and
// time to render, unthrottled and at 10 Mbps down / 5 Mbps up / 50 ms, for the light link
// (everyone) and the creator's live link; and how long an edit takes to show on each.
import '../tests/support/localhost-dns.ts'; // fetch() of <id>.localhost links, as a browser resolves them
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { buildVibeApp } from '../src/app.ts';
import { TEMPLATE_DIR } from '../src/template.ts';
import { loadConfig } from '../src/config.ts';
import { OfflineSampleModel } from '../src/llm/offline.ts';
import { loadTemplate } from '../src/llm/system-prompt.ts';
import { launchChromium } from '../tests/support/browser.ts';
import { RecordingConversation } from '../tests/support/recording-conversation.ts';

interface View {
  bytes: number;
  requests: number;
  renderMs: number;
}

const THROTTLED = { offline: false, latency: 50, downloadThroughput: (10e6 / 8) | 0, uploadThroughput: (5e6 / 8) | 0 };

export async function firstView(browser: Browser, url: string, heading: RegExp, throttle: boolean): Promise<View> {
  const context = await browser.newContext(); // a cold cache every time
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttle) await cdp.send('Network.emulateNetworkConditions', THROTTLED);
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.requestWillBeSent', () => void requests++);
  cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => void (bytes += e.encodedDataLength));
  const t0 = Date.now();
  await page.goto(url);
  await page.locator('h1', { hasText: heading }).waitFor({ timeout: 60_000 });
  const renderMs = Date.now() - t0;
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await context.close();
  return { bytes, requests, renderMs };
}

export async function measureFastView(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-bench-view-'));
  const logger = pino({ level: 'warn' });
  const config = loadConfig({
    VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
    VIBE_APPS_DIR: join(dir, 'apps'),
    VIBE_PORT: '0',
  });
  const { templateFiles } = await loadTemplate(TEMPLATE_DIR);
  const app = await buildVibeApp(config, logger, {
    model: new OfflineSampleModel({ delayMs: 0, baseFiles: templateFiles }),
  });
  const browser = await launchChromium();
  const lines: string[] = [];
  try {
    const conv = new RecordingConversation('bench:view');
    await app.bot.command({ conv, actor: { id: 'bench' }, channelId: conv.channelId }, 'a pomodoro timer');
    const live = conv.cards().find((c) => c.meta?.state === 'live');
    if (!live) throw new Error(`no live app: ${JSON.stringify(conv.cards().at(-1))}`);
    const light = live.meta!.url!;
    const creator = `${light}dev/`;
    const appId = live.meta!.appId!;
    const fmt = (v: View) => `${(v.bytes / 1e6).toFixed(2)} MB, ${v.requests} requests, ${v.renderMs} ms to render`;
    for (const [name, url] of [
      ['light link', light],
      ['creator link', creator],
    ] as const) {
      for (const throttle of [false, true]) {
        await firstView(browser, url, /pomodoro/i, throttle); // warm the server side (Vite transforms, gzip cache)
        const v = await firstView(browser, url, /pomodoro/i, throttle);
        lines.push(`${name.padEnd(12)} ${throttle ? '10 Mbps/50 ms' : 'unthrottled  '}: ${fmt(v)}`);
      }
    }
    // Edit -> visible on both, with both pages open.
    const sandboxId = (await app.store.getApp(appId))!.sandboxId!;
    const version = await app.store.getVersion(appId, 1);
    const files = { ...version!.files };
    const creatorPage = await browser.newPage();
    const lightPage = await browser.newPage();
    await creatorPage.goto(creator);
    await lightPage.goto(light);
    await creatorPage.locator('h1', { hasText: /pomodoro/i }).waitFor();
    await lightPage.locator('h1', { hasText: /pomodoro/i }).waitFor();
    const edited = { ...files, 'src/App.tsx': files['src/App.tsx']!.replace(/Pomodoro Timer/g, 'Focus Clock') };
    // What a refinement does once the model is done: write (the creator's page hot-reloads), then
    // store the version and publish it (the light page reloads itself).
    const t0 = Date.now();
    const written = app.sandbox.write(sandboxId, edited);
    const hmr = written
      .then(() => creatorPage.locator('h1', { hasText: 'Focus Clock' }).waitFor({ timeout: 60_000 }))
      .then(() => Date.now() - t0);
    const publish = written.then(async () => {
      const v = await app.store.addVersion(appId, {
        files: edited,
        instruction: 'bench edit',
        authorId: 'bench',
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
        model: 'bench',
      });
      await app.publisher.publish(appId, v);
    });
    const reloadMs = lightPage
      .locator('h1', { hasText: 'Focus Clock' })
      .waitFor({ timeout: 60_000 })
      .then(() => Date.now() - t0);
    await publish;
    lines.push(`edit -> visible: creator (HMR) ${await hmr} ms, light link (rebuild + reload) ${await reloadMs} ms`);
  } finally {
    await browser.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
