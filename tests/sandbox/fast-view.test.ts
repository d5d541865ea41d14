import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { eventually, recordingLogger, tempDir, templateDir, templateFiles } from './sandbox-test-kit.ts';
import { needs } from '../support/needs.ts';

const STARTING = 'Starting your app';

/** A small app of the kind the bot writes: Tailwind, a few lucide icons, a recharts chart. */
function sampleApp(heading: string): Record<string, string> {
  return {
    ...templateFiles(),
    'src/App.tsx': `import { useState } from 'react';
import { Timer, Play, Pause } from 'lucide-react';
import { LineChart, Line, XAxis, YAxis, Tooltip, ResponsiveContainer } from 'recharts';
import clsx from 'clsx';

const data = [{ d: 'Mon', v: 3 }, { d: 'Tue', v: 5 }, { d: 'Wed', v: 2 }, { d: 'Thu', v: 6 }];

export default function App() {
  const [running, setRunning] = useState(false);
  return (
    <main className="min-h-screen bg-slate-950 p-6 text-slate-100">
      <h1 id="title" className="flex items-center gap-2 text-2xl font-bold"><Timer className="h-6 w-6 text-sky-400" />${heading}</h1>
      <button id="toggle" className={clsx('mt-4 rounded px-3 py-1', running ? 'bg-rose-500' : 'bg-emerald-500')} onClick={() => setRunning(!running)}>
        {running ? <Pause /> : <Play />}
      </button>
      <div className="mt-6 h-48 w-full"><ResponsiveContainer><LineChart data={data}><XAxis dataKey="d" /><YAxis /><Tooltip /><Line dataKey="v" stroke="#38bdf8" /></LineChart></ResponsiveContainer></div>
    </main>
  );
}
`,
  };
}

interface Traffic {
  bytes: number;
  requests: number;
  urls: string[];
}

/** Counts what the page transferred (bytes on the wire, headers included) via CDP. */
async function recordTraffic(page: Page): Promise<Traffic> {
  const traffic: Traffic = { bytes: 0, requests: 0, urls: [] };
  const cdp = await page.context().newCDPSession(page);
  const urls = new Map<string, string>();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => {
    traffic.bytes += e.encodedDataLength;
    traffic.requests++;
    traffic.urls.push(urls.get(e.requestId) ?? '?');
  });
  await cdp.send('Network.enable');
  return traffic;
}

/** A raw GET, so the test sees the headers and bytes as sent (fetch would decode them). */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

describe.runIf(needs('chromium'))(
  'fast first view: light production link and creator dev link from one sandbox',
  () => {
    let apps: Awaited<ReturnType<typeof tempDir>>;
    let provider: LocalSandboxProvider;
    let browser: Browser;
    let sandbox: { id: string; url: string };
    let bootedAt = 0;
    let firstAnswer = '';
    const files = sampleApp('Focus timer');

    beforeAll(async () => {
      apps = await tempDir('vibe-fast-');
      provider = new LocalSandboxProvider({
        appsDir: apps.path,
        templateDir,
        logger: recordingLogger(),
        isolation: needs('bwrap') ? 'bwrap' : 'none',
      });
      browser = await launchChromium();
      const t = Date.now();
      sandbox = await provider.boot('fast1', files);
      bootedAt = Date.now();
      console.info(`boot: ${bootedAt - t} ms`);
      firstAnswer = await (await fetch(sandbox.url)).text();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await provider?.stopAll();
      await apps?.remove();
    });

    it('answers the starting page (200) until the first build, then the built app', async () => {
      // boot() returns once the base answers 200: that is the starting page, since the build takes longer.
      expect(firstAnswer).toContain(STARTING);
      expect(firstAnswer).toContain(`${new URL(sandbox.url).pathname}__vibe/events`);
      await eventually(async () => !(await (await fetch(sandbox.url)).text()).includes(STARTING), 30_000);
      console.info(`first production build served ${Date.now() - bootedAt} ms after boot returned`);
      const html = await (await fetch(sandbox.url)).text();
      expect(html).toMatch(
        /<script type="module" crossorigin src="\/apps\/fast1\/assets\/index-[\w-]+\.js"><\/script>/,
      );
      // SPA fallback: an unknown route gets the app; a missing asset is a 404, not HTML.
      expect(await (await fetch(`${sandbox.url}some/route`)).text()).toBe(html);
      expect((await fetch(`${sandbox.url}assets/missing-123.js`)).status).toBe(404);
    }, 60_000);

    it('renders the light link with production React in <= 0.3 MB, compressed', async () => {
      const page = await browser.newPage();
      try {
        const traffic = await recordTraffic(page);
        const scripts: string[] = [];
        const encodings = new Set<string>();
        page.on('response', async (r) => {
          if (r.request().resourceType() === 'script') scripts.push(await r.text());
          const enc = r.headers()['content-encoding'];
          if (enc && /\.(js|css)$|\/$/.test(new URL(r.url()).pathname)) encodings.add(enc);
        });
        const t = Date.now();
        await page.goto(sandbox.url);
        await page.locator('#title', { hasText: 'Focus timer' }).waitFor({ timeout: 15_000 });
        await page.locator('svg.recharts-surface').waitFor({ timeout: 15_000 });
        const renderMs = Date.now() - t;
        await page.locator('#toggle').click(); // the app works, not only paints
        await page.locator('#toggle.bg-rose-500').waitFor({ timeout: 5000 });
        console.info(
          `light link: ${kb(traffic.bytes)} in ${traffic.requests} requests, rendered in ${renderMs} ms, encodings ${[...encodings].join(',')}\n  ${traffic.urls.join('\n  ')}`,
        );
        expect(traffic.bytes).toBeLessThanOrEqual(0.3 * 1024 * 1024);
        expect(encodings.size).toBeGreaterThan(0);
        expect(scripts.length).toBeGreaterThan(0);
        for (const s of scripts) {
          expect(s).not.toContain('react-dom.development');
          expect(s).not.toContain('jsxDEV');
        }
      } finally {
        await page.close();
      }
    }, 60_000);

    it('serves the creator link under dev/ compressed, without inline maps on dependencies', async () => {
      const page = await browser.newPage();
      try {
        const traffic = await recordTraffic(page);
        const deps: { url: string; encoding?: string; body: string }[] = [];
        page.on('response', async (r) => {
          if (/\/((\.vite-cache|cache)\/deps|node_modules|@vite)\//.test(r.url()))
            deps.push({ url: r.url(), encoding: r.headers()['content-encoding'], body: await r.text() });
        });
        const t = Date.now();
        await page.goto(`${sandbox.url}dev/`);
        await page.locator('#title', { hasText: 'Focus timer' }).waitFor({ timeout: 30_000 });
        await page.locator('svg.recharts-surface').waitFor({ timeout: 15_000 });
        console.info(
          `creator link: ${kb(traffic.bytes)} in ${traffic.requests} requests, rendered in ${Date.now() - t} ms`,
        );
        expect(traffic.bytes).toBeLessThanOrEqual(0.6 * 1024 * 1024);
        // Vite's cache: /.vite-cache/ in an unisolated app dir, a tmpfs at /cache (served through /@fs/) in a sandbox.
        expect(deps.some((d) => /\/(\.vite-cache|@fs\/cache)\/deps\/react-dom_client\.js/.test(d.url))).toBe(true);
        // lucide-react arrives as single icons, not as the whole package.
        expect(deps.some((d) => /lucide-react\/dist\/esm\/icons\/timer\.mjs/.test(d.url))).toBe(true);
        expect(deps.some((d) => /lucide-react\.m?js|deps\/lucide-react/.test(d.url))).toBe(false);
        for (const d of deps) expect(d.body, d.url).not.toMatch(/sourceMappingURL=data:/);
        for (const d of deps.filter((x) => x.body.length > 2048)) expect(d.encoding, d.url).toMatch(/^(br|gzip)$/);

        // Raw: brotli and gzip both offered; the HMR client script and app modules too.
        const dep = deps.find((d) => d.url.includes('react-dom_client.js'))!.url;
        const br = await rawGet(dep, { 'accept-encoding': 'br' });
        const gz = await rawGet(dep, { 'accept-encoding': 'gzip' });
        const plain = await rawGet(dep);
        expect(br.headers['content-encoding']).toBe('br');
        expect(gz.headers['content-encoding']).toBe('gzip');
        expect(plain.headers['content-encoding']).toBeUndefined();
        expect(plain.body.toString()).not.toMatch(/sourceMappingURL=data:/);
        console.info(
          `react-dom_client dep: ${kb(plain.body.length)} plain, ${kb(gz.body.length)} gzip, ${kb(br.body.length)} br`,
        );
        const light = await rawGet(sandbox.url, { 'accept-encoding': 'gzip, br' });
        expect(light.headers['content-encoding']).toBe('br');
        // The event stream is never compressed (it would be buffered).
        const events = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
          const req = request(`${sandbox.url}__vibe/events`, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
            resolve(res.headers);
            req.destroy();
          });
          req.on('error', reject);
          req.end();
        });
        expect(events['content-type']).toBe('text/event-stream');
        expect(events['content-encoding']).toBeUndefined();
      } finally {
        await page.close();
      }
    }, 60_000);

    it('updates an open creator page through HMR and reloads an open light page; never a broken answer meanwhile', async () => {
      const context = await browser.newContext();
      try {
        const creator = await context.newPage();
        const viewer = await context.newPage();
        await creator.goto(`${sandbox.url}dev/`);
        await viewer.goto(sandbox.url);
        await creator.locator('#title', { hasText: 'Focus timer' }).waitFor({ timeout: 30_000 });
        await viewer.locator('#title', { hasText: 'Focus timer' }).waitFor({ timeout: 15_000 });
        await creator.waitForFunction(() =>
          (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).some((e) =>
            e.name.includes('@vite/client'),
          ),
        );
        await creator.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
        await viewer.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
        const t = Date.now();
        await provider.write(sandbox.id, sampleApp('Deep work'));
        await creator.locator('#title', { hasText: 'Deep work' }).waitFor({ timeout: 15_000 });
        const hmrMs = Date.now() - t;
        await viewer.locator('#title', { hasText: 'Deep work' }).waitFor({ timeout: 30_000 });
        const lightMs = Date.now() - t;
        console.info(
          `edit -> creator page updated (HMR): ${hmrMs} ms; edit -> open light page reloaded with the new version: ${lightMs} ms`,
        );
        expect(await creator.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1); // no reload
        expect(await viewer.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBeUndefined(); // reloaded
      } finally {
        await context.close();
      }
    }, 90_000);

    it('answers every light request during a rebuild with the app (old or new), never an empty or broken page', async () => {
      const version = async () =>
        ((await (await fetch(`${sandbox.url}__vibe/version`)).json()) as { version: string | null }).version;
      const before = await version();
      expect(before).toBeTruthy();
      const answers: { status: number; ok: boolean; path: string }[] = [];
      let hammering = true;
      const hammer = async () => {
        while (hammering) {
          for (const path of ['', 'other/route']) {
            const res = await fetch(`${sandbox.url}${path}`);
            const text = await res.text();
            const ok =
              (/<div id="root"><\/div>/.test(text) && /assets\/index-[\w-]+\.js/.test(text)) || text.includes(STARTING);
            answers.push({ status: res.status, ok, path });
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const hammers = [hammer(), hammer()];
      try {
        await provider.write(sandbox.id, sampleApp('Third version'));
        await eventually(async () => (await version()) !== before, 30_000);
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        hammering = false;
        await Promise.all(hammers);
      }
      console.info(`${answers.length} light answers during the rebuild`);
      expect(answers.length).toBeGreaterThan(10);
      expect(answers.filter((a) => a.status !== 200 || !a.ok)).toEqual([]);
      expect(await (await fetch(sandbox.url)).text()).not.toBe('');
    }, 60_000);
  },
);
