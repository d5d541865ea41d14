import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserCheck } from '../../src/browser/browser-check.ts';
import { parseStack } from '../../src/browser/stack-frames.ts';
import { CHROMIUM } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';

// The runtime check against pages served on loopback: each page is broken in one way a
// generated app can be, and the check must say how (or pass it, with a real screenshot).

const page = (body: string, script = '') =>
  `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>${body}<script type="module">${script}</script></body></html>`;

/** App.tsx as Vite would serve it: a line added on top, and an inline source map back to the original. */
const moduleWithMap = (() => {
  // Generated line 2 maps to original line 5 of src/App.tsx (mappings: ";AAIA" = line +0->4 , col 0).
  const map = { version: 3, sources: ['App.tsx'], names: [], mappings: ';AAIA' };
  const code = `const hot = 1;\nnull.reduce((a) => a, 0);\n`;
  return `${code}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
})();

const PAGES: Record<string, string> = {
  '/apps/ok/dev/': page('<div id="root"><h1>Hello</h1></div>'),
  '/apps/throws/dev/': page('<div id="root"></div>', "import './src/App.tsx';"),
  '/apps/throws/dev/src/App.tsx': moduleWithMap,
  '/apps/blank/dev/': page('<div id="root"><div></div></div>'),
  '/apps/console/dev/': page(
    '<div id="root"><p>hi</p></div>',
    "console.error('Each child in a list should have a unique key');",
  ),
  '/apps/missing/dev/': page('<div id="root"><p>hi</p><img src="/apps/missing/dev/logo.png"></div>'),
  '/apps/probe/dev/': page(
    '<div id="root"><p>hi</p></div>',
    "const at = location.search.slice(1); fetch('http://' + at + '/steal').catch(() => {}); new Image().src = 'http://' + at + '/img'; try { new WebSocket('ws://' + at + '/ws'); } catch {} throw Object.assign(new Error('crafted'), { stack: 'Error: crafted\\n    at x (http://' + at + '/src/App.tsx:1:1)' });",
  ),
  '/apps/outside/dev/': page(
    '<div id="root"><p>hi</p><img src="https://images.example.com/photo.jpg"></div>',
    "throw new Error('x'.repeat(100000) + '\\u001b]0;pwned\\u0007')",
  ),
  // Renders only after 800 ms of DOM changes (one every 50 ms, within the quiet window) with the
  // network idle: a check that ended on network quiet alone would see a blank root.
  '/apps/settles/dev/': page(
    '<div id="root"></div>',
    "let i = 0; const t = setInterval(() => { document.body.dataset.tick = String(++i); if (i === 16) { clearInterval(t); document.getElementById('root').innerHTML = '<h1>ready</h1>'; } }, 50);",
  ),
  // Red at load, green 300 ms later (its DOM busy until then): the picture must be of the green page.
  '/apps/turns/dev/': page(
    '<div id="root" style="height:100vh;background:rgb(255,0,0)"><p>hi</p></div>',
    "let i = 0; const t = setInterval(() => { document.body.dataset.tick = String(++i); if (i === 6) { clearInterval(t); document.getElementById('root').style.background = 'rgb(0,128,0)'; } }, 50);",
  ),
  '/apps/loops/dev/': page('<div id="root"><p>hi</p></div>', 'setTimeout(() => { for (;;) {} }, 0);'),
  '/apps/overlay/dev/': page(
    '<div id="root"><p>hi</p></div>',
    "const o = document.createElement('vite-error-overlay'); o.attachShadow({mode:'open'}).innerHTML = '<pre class=\"message\">Transform failed: Unexpected token</pre>'; document.body.append(o);",
  ),
};

describe.runIf(needs('chromium'))('the runtime check in headless Chromium', () => {
  let server: http.Server;
  let base: string;
  let check: BrowserCheck;
  let slowAsked = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/apps/slow/dev/') {
        slowAsked++;
        return void setTimeout(() => res.writeHead(200).end(PAGES['/apps/ok/dev/']), 1500);
      }
      const body = PAGES[path];
      if (body === undefined) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': path.endsWith('.tsx') ? 'text/javascript' : 'text/html' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    check = new BrowserCheck({ executablePath: CHROMIUM, logger: pino({ level: 'silent' }) });
  });
  /** A check that must have run (undefined means the browser itself failed). */
  async function render(url: string) {
    const r = await check.render(url);
    if (!r) throw new Error('the check browser did not run');
    return r;
  }
  afterAll(async () => {
    await check?.close();
    await new Promise((r) => server?.close(r));
  });

  it('passes a page that renders, with a real 1280x800 PNG of it', async () => {
    const r = await render(`${base}/apps/ok/dev/`);
    expect(r.errors).toEqual([]);
    const png = Buffer.from(r.screenshot!);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 800]);
  });

  it('reports an uncaught error at its place in src/, through the source map', async () => {
    const r = await render(`${base}/apps/throws/dev/`);
    const thrown = r.errors.find((e) => e.message.includes('TypeError'));
    expect(thrown).toMatchObject({ file: 'src/App.tsx', line: 5, source: 'browser' });
    expect(thrown?.message).toMatch(/^Runtime error: TypeError: Cannot read properties of null \(reading 'reduce'\)/);
    // The same page renders nothing visible: that is said too.
    expect(r.errors.some((e) => e.message.includes('the page is blank'))).toBe(true);
    // Only a clean load is pictured.
    expect(r.screenshot).toBeUndefined();
  });

  it('waits for the DOM to be quiet, not only the network, before it judges the page', async () => {
    const r = await render(`${base}/apps/settles/dev/`);
    expect(r.errors).toEqual([]);
    expect(r.screenshot).toBeDefined();
  });

  it('pictures the page as it settled, not as it was when the picture was first taken', async () => {
    const r = await render(`${base}/apps/turns/dev/`);
    expect(r.errors).toEqual([]);
    const { data, info } = await sharp(Buffer.from(r.screenshot!)).raw().toBuffer({ resolveWithObject: true });
    const at = (400 * info.width + 640) * info.channels;
    expect([data[at], data[at + 1], data[at + 2]]).toEqual([0, 128, 0]);
  });

  it('reports a blank root, console errors, failed requests of the app and Vite’s overlay', async () => {
    expect((await render(`${base}/apps/blank/dev/`)).errors.map((e) => e.message)).toEqual([
      'Runtime error: the page is blank: nothing visible was rendered in #root after it loaded',
    ]);
    expect((await render(`${base}/apps/console/dev/`)).errors[0]?.message).toBe(
      'Runtime error: console.error: Each child in a list should have a unique key',
    );
    const missing = (await render(`${base}/apps/missing/dev/`)).errors.map((e) => e.message);
    expect(missing).toContain('Runtime error: request failed: dev/logo.png answered 404');
    expect((await render(`${base}/apps/overlay/dev/`)).errors.map((e) => e.message)).toContain(
      "Runtime error: Vite's error overlay shows: Transform failed: Unexpected token",
    );
  });

  it("reaches nothing but the app itself: other hosts on the bot's loopback see no request", async () => {
    const seen: string[] = [];
    const canary = net.createServer((s) => {
      seen.push('connection');
      s.destroy();
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', () => r()));
    try {
      const at = `127.0.0.1:${(canary.address() as AddressInfo).port}`;
      const r = await render(`${base}/apps/probe/dev/?${at}`);
      expect(r.errors.some((e) => e.message.includes('crafted'))).toBe(true);
      await new Promise((res) => setTimeout(res, 300));
      expect(seen).toEqual([]); // not the page's fetch, image or WebSocket, nor the bot following its crafted stack
    } finally {
      await new Promise((res) => canary.close(res));
    }
  });

  it('an outside resource is blocked without being the app’s error; page text is bounded and control characters go', async () => {
    const r = await render(`${base}/apps/outside/dev/`);
    expect(r.errors.map((e) => e.message).join('\n')).not.toMatch(/Failed to load resource|images\.example/);
    const thrown = r.errors.find((e) => e.message.includes('xxxx'))!;
    expect(thrown.message.length).toBeLessThanOrEqual(500);
    expect(thrown.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('a browser that will not start means "not checked", never an error of the app', async () => {
    const broken = new BrowserCheck({ executablePath: '/bin/false', logger: pino({ level: 'silent' }) });
    try {
      await broken.warm(); // started ahead: it says so in the log, and throws nothing
      expect(await broken.render(`${base}/apps/ok/dev/`)).toBeUndefined();
    } finally {
      await broken.close();
    }
  });

  it(
    'a browser killed during a check is started again and the check made again, not blamed on the app',
    { timeout: 180_000 },
    async () => {
      const logged: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
      const own = new BrowserCheck({ executablePath: CHROMIUM, logger });
      await render(`${base}/apps/ok/dev/`); // the shared check's browser is up: not ours
      const before = new Set(childPids());
      try {
        expect((await own.render(`${base}/apps/ok/dev/`))?.errors).toEqual([]);
        const ours = childPids().filter((pid) => !before.has(pid));
        expect(ours).toHaveLength(1);
        const asked = slowAsked;
        const pending = own.render(`${base}/apps/slow/dev/`);
        await eventually(() => slowAsked > asked, 30_000, 20); // the page is loading
        process.kill(ours[0]!, 'SIGKILL');
        const r = await pending;
        expect(r, `checked by a new browser; the check logged:\n${logged.join('')}`).toBeDefined();
        expect(r!.errors).toEqual([]);
      } finally {
        await own.close();
      }
    },
  );

  it('a page whose script never yields is reported, and the check still ends', { timeout: 60_000 }, async () => {
    const r = await render(`${base}/apps/loops/dev/`);
    expect(r.errors.map((e) => e.message).join('\n')).toContain('stopped responding');
  });

  it('checks a production build from memory: nothing reaches the network, frames map to src/ through its private maps', async () => {
    // Port 9 answers nothing: a request that left the browser would fail the load.
    const at = 'http://127.0.0.1:9/apps/built/';
    // Line 2 of the chunk maps to line 7 of src/App.tsx (the map's source is relative to the chunk, as Vite writes it).
    const map = { version: 3, sources: ['../../../app/src/App.tsx'], names: [], mappings: ';AAMA' };
    const files = new Map<string, Uint8Array>([
      [
        'index.html',
        Buffer.from(
          '<!doctype html><html><head><script type="module" src="/apps/built/assets/index-1.js"></script></head><body><div id="root"></div></body></html>',
        ),
      ],
      [
        'assets/index-1.js',
        Buffer.from(
          "document.getElementById('root').innerHTML = '<h1>built</h1>';\n" +
            "fetch('/apps/built/assets/index-1.js.map').then((r) => { if (r.status === 200) null.leak(); setTimeout(() => null.reduce(), 0); });\n",
        ),
      ],
      ['assets/index-1.js.map', Buffer.from(JSON.stringify(map))],
    ]);
    const r = await check.render(at, { files });
    expect(r?.errors).toEqual([
      // The map is the bot's alone: the page asking for it gets a 404 (reported, as any of the app's requests).
      expect.objectContaining({ message: 'Runtime error: request failed: assets/index-1.js.map answered 404' }),
      expect.objectContaining({
        file: 'src/App.tsx',
        line: 7,
        message: expect.stringMatching(
          /^Runtime error: TypeError: Cannot read properties of null \(reading 'reduce'\)/,
        ),
      }),
    ]);
  });

  it('a page that does not answer is an error, not a hang', async () => {
    const r = await render('http://127.0.0.1:9/apps/nothing/dev/');
    expect(r.errors.map((e) => e.message).join('\n')).toMatch(/^Runtime error: the page did not load/m);
    expect(r.screenshot).toBeUndefined();
  });
});

/** This process's child processes (Chromium's browser process is one per BrowserCheck). */
function childPids(): number[] {
  return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /chrom/i.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('stack frames', () => {
  it('reads V8 frames, top first', () => {
    const stack = `TypeError: x is null
    at App (http://127.0.0.1:5173/apps/a/dev/src/App.tsx?t=17:12:9)
    at renderWithHooks (http://127.0.0.1:5173/apps/a/dev/node_modules/.vite/deps/react-dom.js:100:2)
    at http://127.0.0.1:5173/apps/a/dev/src/main.tsx:4:1`;
    expect(parseStack(stack)).toEqual([
      { url: 'http://127.0.0.1:5173/apps/a/dev/src/App.tsx?t=17', line: 12, column: 9 },
      { url: 'http://127.0.0.1:5173/apps/a/dev/node_modules/.vite/deps/react-dom.js', line: 100, column: 2 },
      { url: 'http://127.0.0.1:5173/apps/a/dev/src/main.tsx', line: 4, column: 1 },
    ]);
  });
});
