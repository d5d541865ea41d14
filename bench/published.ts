// Published builds: a sleeping app's link (no sandbox running) and 1,000 stored apps opened once
// each with no sandbox at all. Time to first byte on loopback, time to render cold at 10 Mbps,
// memory, and whether any sandbox was started.
import '../tests/support/localhost-dns.ts'; // fetch() of <id>.localhost links, as a browser resolves them
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildVibeApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { BuildManifest } from '../src/core/ports/index.ts';
import { OfflineSampleModel } from '../src/llm/offline.ts';
import { loadTemplate } from '../src/llm/system-prompt.ts';
import { TEMPLATE_DIR } from '../src/template.ts';
import { launchChromium } from '../tests/support/browser.ts';
import { RecordingConversation } from '../tests/support/recording-conversation.ts';
import { firstView } from './fast-view.ts';

const APPS = Number(process.env.BENCH_STORED_APPS ?? 1000);
const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

/** Time to the first byte of the response, and the whole body, of one GET on loopback. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ttfb: number; status: number; body: Buffer }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let ttfb = 0;
      const chunks: Buffer[] = [];
      res.once('data', () => (ttfb = performance.now() - t0));
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ ttfb: ttfb || performance.now() - t0, status: res.statusCode!, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
  });
}

export async function measurePublished(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-bench-pub-'));
  const config = loadConfig({
    VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
    VIBE_APPS_DIR: join(dir, 'apps'),
    VIBE_PORT: '0',
    VIBE_BROWSER: 'off',
    VIBE_WARM_SANDBOXES: '0', // sleeping apps' views: no sandbox at all
  });
  const { templateFiles } = await loadTemplate(TEMPLATE_DIR);
  const app = await buildVibeApp(config, pino({ level: 'warn' }), {
    model: new OfflineSampleModel({ delayMs: 0, baseFiles: templateFiles }),
  });
  let boots = 0;
  const boot = app.sandbox.boot.bind(app.sandbox);
  app.sandbox.boot = (...args) => (boots++, boot(...args));
  const browser = await launchChromium();
  const lines: string[] = [];
  try {
    const conv = new RecordingConversation('bench:pub');
    await app.bot.command({ conv, actor: { id: 'bench' }, channelId: conv.channelId }, 'a pomodoro timer');
    const live = conv.cards().find((c) => c.meta?.state === 'live');
    if (!live) throw new Error(`no live app: ${JSON.stringify(conv.cards().at(-1))}`);
    const { appId, url } = live.meta as { appId: string; url: string };
    await app.runtime.stop(appId); // asleep: what a link opened the next day meets
    boots = 0;

    // (1) The sleeping app's link: first byte, the first request cold (nothing in memory) and then warm.
    const cold = await get(url);
    const warm: number[] = [];
    for (let i = 0; i < 50; i++) warm.push((await get(url)).ttfb);
    lines.push(
      `sleeping app, time to first byte of its link (loopback): first ${cold.ttfb.toFixed(1)} ms, then median ${pct(warm, 0.5).toFixed(1)} ms, p95 ${pct(warm, 0.95).toFixed(1)} ms (50 requests)`,
    );
    for (const throttle of [false, true]) {
      const v = await firstView(browser, url, /pomodoro/i, throttle);
      lines.push(
        `sleeping app, render cold ${throttle ? 'at 10 Mbps/50 ms' : 'unthrottled     '}: ${v.renderMs} ms (${(v.bytes / 1e3).toFixed(0)} KB, ${v.requests} requests)`,
      );
    }
    lines.push(`  sandboxes started for those views: ${boots}; running now: ${app.runtime.counts().running}`);

    // (2) 1,000 stored apps, each with its own page and its own app chunk, sharing the vendor
    // chunks and the CSS, as publishing stores them; then each opened once as a browser would.
    const m = (await app.store.getManifest(appId, 1)) as BuildManifest;
    const blob = async (bytes: Buffer) => {
      const hash = createHash('sha256').update(bytes).digest('hex');
      await app.store.blobs.put(hash, bytes);
      return hash;
    };
    const [chunkPath, chunk] = Object.entries(m.files).find(([p]) => /^assets\/index-.*\.js$/.test(p))!;
    const chunkBytes = Buffer.from((await app.store.blobs.get(chunk.hash))!);
    const htmlBytes = Buffer.from((await app.store.blobs.get(m.files['index.html']!.hash))!).toString();
    const before = await app.store.blobs.storedBytes();
    const s0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < APPS; i++) {
      const id = `stored${String(i).padStart(4, '0')}`;
      ids.push(id);
      await app.store.createApp({
        id,
        channelId: 'bench:stored',
        threadId: `t-${id}`,
        ownerId: 'bench',
        title: id,
        summary: '',
        prompt: '',
      });
      const v = await app.store.addVersion(id, {
        files: templateFiles,
        instruction: 'stored',
        authorId: 'bench',
        usage,
        model: 'bench',
      });
      const ownChunk = Buffer.concat([chunkBytes, Buffer.from(`\n/* ${id} */\n`)]);
      const ownPath = `assets/index-${id}.js`;
      const html = Buffer.from(htmlBytes.replaceAll(`/apps/${appId}/`, `/apps/${id}/`).replace(chunkPath, ownPath));
      const files = { ...m.files };
      delete files[chunkPath];
      files[ownPath] = { ...chunk, hash: await blob(ownChunk), size: ownChunk.length, br: undefined, gz: undefined };
      files['index.html'] = { ...m.files['index.html']!, hash: await blob(html), size: html.length };
      await app.store.addManifest({ appId: id, version: v.number, source: m.source, files, publishedAt: Date.now() });
    }
    const storedMs = performance.now() - s0;
    const perApp = ((await app.store.blobs.storedBytes()) - before) / APPS;
    const port = new URL(app.publicUrl).port;
    const pageTtfb: number[] = [];
    const rss0 = process.memoryUsage().rss;
    const o0 = performance.now();
    let failed = 0;
    for (const id of ids) {
      const origin = `http://${id}.localhost:${port}`;
      const page = await get(`${origin}/`, { 'accept-encoding': 'br, gzip' });
      pageTtfb.push(page.ttfb);
      if (page.status !== 200) failed++;
      for (const [, ref] of page.body.toString().matchAll(/(?:src|href)="([^"]+)"/g)) {
        const asset = new URL(ref!, `${origin}/`);
        if (asset.protocol !== 'http:') continue; // data: icons
        if ((await get(asset.href, { 'accept-encoding': 'br, gzip' })).status !== 200) failed++;
      }
    }
    const openS = (performance.now() - o0) / 1000;
    lines.push(
      `${APPS} stored apps (stored in ${(storedMs / 1000).toFixed(1)} s, ${(perApp / 1024).toFixed(1)} KB new per app): opened once each (page + its assets) in ${openS.toFixed(1)} s; page first byte median ${pct(pageTtfb, 0.5).toFixed(1)} ms, p99 ${pct(pageTtfb, 0.99).toFixed(1)} ms; ${failed} failed requests; sandboxes started ${boots}, running ${app.runtime.counts().running}; bot RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB (${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MB more than before opening)`,
    );
  } finally {
    await browser.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
