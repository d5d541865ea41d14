import { tmpdir } from 'node:os';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { CheckError, Logger, RenderChecker, RenderResult } from '../core/ports.ts';
import type { ScratchState } from '../core/shared-data.ts';
import { scratchSocket, SHARED_PATH } from './scratch-socket.ts';
import { appFrame, parseStack, type SourceMapper } from './stack-frames.ts';

/** Chromium's flags for a headless, quiet, offline-friendly browser on a server. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const VIEWPORT = { width: 1280, height: 800 };
/** The whole page load, settle included, must fit in this. */
const LOAD_TIMEOUT_MS = 20_000;
/** The page is settled when no request has been in flight for this long... */
const QUIET_MS = 300;
/** ...or this long after `load`, whichever comes first. */
const SETTLE_MAX_MS = 4000;
/** Errors reported per check, at most (the repair message shows the first ones anyway). */
const MAX_ERRORS = 10;
/** Characters of one error's message, at most. */
const MAX_MESSAGE = 500;
/** Marks an error as found in the browser (repair wording, failure cards). */
export const RUNTIME = 'Runtime error:';
/** One attempt's limit: the page load and its settling, the inspection, the screenshot and the source maps. */
const ATTEMPT_DEADLINE_MS = LOAD_TIMEOUT_MS + 25_000;
/** An attempt the bot spoiled (its browser or page died): made again, never blamed on the app. */
const BOT_FAILED = Symbol('bot failed');

/**
 * Opens an app in headless Chromium the way a viewer would and reports what went wrong: uncaught
 * exceptions, console errors (React's error-boundary messages come this way), failed requests
 * under the app's own path, Vite's error overlay, and a root that renders nothing visible.
 * One browser for the bot process (started on first use, restarted if it dies), a fresh
 * context per check; the same load takes the screenshot.
 */
export class BrowserCheck implements RenderChecker {
  private browser?: Promise<Browser>;

  constructor(
    private readonly opts: {
      executablePath: string;
      logger: Logger;
      /** Extra Chromium flags (VIBE_BROWSER_ARGS), e.g. --ignore-certificate-errors for a test's tunnels. */
      extraArgs?: string[];
    },
  ) {}

  /**
   * Undefined when the check could not be made (the browser would not start, or died during the
   * check, twice): that is the bot's problem, never blamed on the app. A check the bot spoiled is
   * made once more on a fresh page before giving up.
   */
  async render(url: string, opts: { sharedState?: ScratchState } = {}): Promise<RenderResult | undefined> {
    const first = await this.bounded(url, true, opts.sharedState);
    if (first !== BOT_FAILED) return first;
    this.opts.logger.warn({ url }, 'the check browser failed during a check; trying once more');
    const second = await this.bounded(url, false, opts.sharedState);
    return second === BOT_FAILED ? undefined : second;
  }

  /**
   * One attempt with a deadline of its own: every step inside has a timeout, but a browser that
   * stops answering the protocol altogether must not hold a build. Past it, that browser is
   * dropped (the next attempt starts another) and the attempt counts as the bot's failure.
   */
  private async bounded(
    url: string,
    firstTry: boolean,
    shared?: ScratchState,
  ): Promise<RenderResult | typeof BOT_FAILED> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof BOT_FAILED>((resolve) => {
      timer = setTimeout(() => {
        this.opts.logger.warn({ url, ms: ATTEMPT_DEADLINE_MS }, 'the check browser stopped answering; dropping it');
        void this.drop();
        resolve(BOT_FAILED);
      }, ATTEMPT_DEADLINE_MS);
    });
    try {
      return await Promise.race([this.attempt(url, firstTry, shared), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets the current browser and its spare, and closes them without waiting on an answer. */
  private async drop(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    this.spare = undefined;
    const b = await browser?.catch(() => undefined);
    await b?.close().catch(() => undefined);
  }

  private async attempt(
    url: string,
    firstTry: boolean,
    shared?: ScratchState,
  ): Promise<RenderResult | typeof BOT_FAILED> {
    const started = Date.now();
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    try {
      browser = await this.launch();
      ({ context, page } = firstTry ? await this.takeFresh(browser) : await this.makeFresh(browser));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message.split('\n')[0] }, 'the check browser is not available');
      return BOT_FAILED;
    }
    let crashed = false;
    page.on('crash', () => (crashed = true));
    try {
      // The page is hostile code: it may reach nothing but its own app (no other host, not the
      // bot's loopback services, not another app), so the bot's browser cannot be used to probe.
      const own = ownPrefix(new URL(url));
      const allowed = (u: string) => u.startsWith(own) || u.startsWith('data:') || u.startsWith('blob:');
      await context.route('**/*', (route) =>
        allowed(route.request().url()) ? route.continue() : route.abort('blockedbyclient'),
      );
      await context.routeWebSocket(/.*/, (ws) => {
        const http = ws.url().replace(/^ws/, 'http');
        // The app's shared state: a scratch copy answered in the bot, never the real data.
        if (shared && allowed(http) && SHARED_PATH.test(new URL(http).pathname)) return shared.open(scratchSocket(ws));
        return allowed(http) ? ws.connectToServer() : ws.close();
      });
      const found = watch(page, own);
      const loaded = await page
        .goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS })
        .then(() => true)
        .catch((err: Error) => {
          found.add({ message: `${RUNTIME} the page did not load: ${err.message.split('\n')[0]}` });
          return false;
        });
      if (loaded) {
        await found.settled(Math.min(SETTLE_MAX_MS, LOAD_TIMEOUT_MS - (Date.now() - started)));
        for (const message of await pageProblems(page)) found.add({ message: `${RUNTIME} ${message}` });
      }
      const screenshot = loaded
        ? await page.screenshot({ type: 'png', timeout: 5000 }).catch((err: Error) => {
            this.opts.logger.warn({ err: err.message, url }, 'screenshot failed');
            return undefined;
          })
        : undefined;
      // The browser went away under the check: what was found says nothing about the app. A page
      // that crashed or closed may be the bot's bad luck once; twice in a row it is the app's doing
      // (a renderer out of memory, say).
      if (!browser.isConnected() || ((page.isClosed() || crashed) && firstTry)) {
        this.opts.logger.warn({ url, crashed }, 'the check browser or its page died during a check');
        return BOT_FAILED;
      }
      if (page.isClosed() || crashed)
        found.add({ message: `${RUNTIME} the page crashed or closed itself while it was checked (too much memory?)` });
      const errors = await found.errors(mapperFor(context, allowed));
      return { errors, screenshot, ms: Date.now() - started };
    } catch (err) {
      // Only the route set-up can throw here (the context closed under it): the bot's problem.
      this.opts.logger.warn({ err: (err as Error).message.split('\n')[0], url }, 'the check could not be set up');
      return BOT_FAILED;
    } finally {
      await context.close().catch(() => undefined);
    }
  }

  /**
   * A context and page nobody has used, made ahead of time (a new page costs about half a second
   * here, mostly its renderer process), then the next one is started for the next check.
   */
  private spare?: { of: Browser; made: Promise<{ context: BrowserContext; page: Page }> };

  private async takeFresh(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
    const spare = this.spare;
    this.spare = undefined;
    // A spare of a browser that has since exited is no use, and waiting on it may never end
    // (a request the dead browser never answered): it is left to fail on its own.
    const ready = spare?.of === browser && browser.isConnected() ? await spare.made.catch(() => undefined) : undefined;
    const usable = ready && !ready.page.isClosed() ? ready : undefined;
    const fresh = usable ?? (await this.makeFresh(browser));
    const made = this.makeFresh(browser);
    made.catch(() => undefined);
    this.spare = { of: browser, made };
    return fresh;
  }

  private async makeFresh(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: VIEWPORT,
      ignoreHTTPSErrors: this.opts.extraArgs?.includes('--ignore-certificate-errors') ?? false,
      serviceWorkers: 'block',
    });
    return { context, page: await context.newPage() };
  }

  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = undefined;
    // Waiting on a spare of a browser that has exited would wait for an answer that never comes.
    if (spare?.of.isConnected())
      await (await spare.made.catch(() => undefined))?.context.close().catch(() => undefined);
    const browser = this.browser;
    this.browser = undefined; // before closing: its 'disconnected' is then not a surprise
    await (await browser?.catch(() => undefined))?.close().catch(() => undefined);
  }

  private launch(): Promise<Browser> {
    const starting = (this.browser ??= this.start().then((browser) => {
      browser.on('disconnected', () => {
        if (this.browser !== starting) return; // closed on purpose, or already replaced
        this.opts.logger.warn({}, 'the check browser exited; the next check starts a new one');
        this.browser = undefined;
      });
      return browser;
    }));
    this.browser.catch(() => (this.browser = undefined));
    return this.browser;
  }

  /**
   * Chromium with its own sandbox where it can have one (not as root, which it refuses), else
   * without (--no-sandbox), said once in the log.
   */
  private async start(): Promise<Browser> {
    const extra = this.opts.extraArgs ?? [];
    // Playwright adds --no-sandbox itself unless chromiumSandbox is set.
    const launch = (sandboxed: boolean) =>
      chromium.launch({
        executablePath: this.opts.executablePath,
        timeout: 30_000,
        args: [...CHROMIUM_ARGS.filter((a) => a !== '--no-sandbox'), ...extra],
        chromiumSandbox: sandboxed,
        // The pages it opens are hostile code: none of the bot's secrets in its environment.
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), TMPDIR: tmpdir() },
      });
    if (process.getuid?.() === 0 || extra.includes('--no-sandbox')) return launch(false);
    try {
      return await launch(true);
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).message.split('\n')[0] },
        "Chromium's sandbox is not available here: the check browser runs without it",
      );
      return launch(false);
    }
  }
}

interface Found {
  message: string;
  /** A console.error: repaired if it can be, not a reason to withhold the link. */
  warning?: boolean;
  /** The page's stack (uncaught errors) or the console call's place, for mapping to src/. */
  stack?: string;
  at?: { url: string; line: number; column: number };
}

/** Listens to the page; `settled` waits for quiet; `errors` maps what was seen to CheckErrors. */
function watch(page: Page, own: string) {
  const found: Found[] = [];
  const seen = new Set<string>();
  const add = (raw: Found): void => {
    // The page's words go to the model and into chat: bounded, one line.
    const f = { ...raw, message: oneLine(raw.message).slice(0, MAX_MESSAGE) };
    if (seen.has(f.message) || found.length >= MAX_ERRORS) return;
    seen.add(f.message);
    found.push(f);
  };
  // Only requests for the app itself count (its base path on its own origin), not the browser's own.
  const ownRequest = (u: string): boolean => u.startsWith(own);
  const base = new URL(own).pathname;
  let inflight = 0;
  let lastChange = Date.now();
  const change = (d: number) => {
    inflight += d;
    lastChange = Date.now();
  };
  page.on('pageerror', (err) => add({ message: `${RUNTIME} ${err.name}: ${err.message}`, stack: err.stack }));
  page.on('console', (msg) => {
    // Chromium's own "Failed to load resource" lines: the app's failed requests are reported by
    // the request handlers below, and blocked outside resources are not the app's error here.
    if (msg.type() !== 'error' || msg.text().startsWith('Failed to load resource')) return;
    const loc = msg.location();
    add({
      message: `${RUNTIME} console.error: ${msg.text().split('\n')[0]}`,
      warning: true,
      at: loc.url ? { url: loc.url, line: loc.lineNumber + 1, column: loc.columnNumber + 1 } : undefined,
    });
  });
  page.on('request', () => change(1));
  page.on('requestfinished', () => change(-1));
  page.on('requestfailed', (req) => {
    change(-1);
    // ERR_ABORTED: the page navigated or reloaded under it (Vite reloads a page once after it
    // optimises a newly found dependency), not a request that failed.
    if (ownRequest(req.url()) && req.failure()?.errorText !== 'net::ERR_ABORTED')
      add({
        message: `${RUNTIME} request failed: ${pathOf(req.url(), base)} (${req.failure()?.errorText ?? 'failed'})`,
      });
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && ownRequest(res.url()))
      add({ message: `${RUNTIME} request failed: ${pathOf(res.url(), base)} answered ${res.status()}` });
  });
  return {
    add,
    async settled(maxMs: number): Promise<void> {
      const deadline = Date.now() + Math.max(0, maxMs);
      while (Date.now() < deadline && (inflight > 0 || Date.now() - lastChange < QUIET_MS))
        await new Promise((r) => setTimeout(r, 50));
    },
    async errors(mapper: SourceMapper): Promise<CheckError[]> {
      const out: CheckError[] = [];
      for (const f of found) {
        const place = await appFrame(f.at ? [f.at] : f.stack ? parseStack(f.stack) : [], mapper);
        out.push({
          file: place?.file ?? '(browser)',
          line: place?.line ?? 0,
          column: place?.column ?? 0,
          message: f.message,
          source: 'browser',
          ...(f.warning ? { warning: true } : {}),
        });
      }
      return out;
    },
  };
}

/**
 * What the page itself shows when it is broken: Vite's error overlay, or nothing visible in
 * #root. Plain JavaScript in a string: the bot runs under tsx, whose transform would add helpers
 * (`__name`) to a function passed to the page, where they do not exist.
 */
const PAGE_PROBLEMS = `(() => {
  const problems = [];
  const overlay = document.querySelector('vite-error-overlay');
  if (overlay) {
    const text = (overlay.shadowRoot && overlay.shadowRoot.querySelector('.message')?.textContent) || 'an error';
    problems.push("Vite's error overlay shows: " + text.trim().split('\\n')[0].slice(0, 500));
  }
  const shows = ['CANVAS', 'SVG', 'IMG', 'VIDEO', 'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT', 'IFRAME'];
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 0 || box.height <= 0 || style.visibility === 'hidden' || style.opacity === '0') return false;
    return (el.textContent || '').trim() !== '' || shows.includes(el.tagName.toUpperCase());
  };
  const root = document.getElementById('root');
  if (!root) problems.push('the page has no #root element');
  else if (![root, ...root.querySelectorAll('*')].some(visible))
    problems.push('the page is blank: nothing visible was rendered in #root after it loaded');
  return problems;
})()`;

async function pageProblems(page: Page): Promise<string[]> {
  // A page stuck in a loop never answers an evaluate: give up after a while, and say so.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve(['the page stopped responding (its script may loop forever)']), 5000);
  });
  return Promise.race([
    page
      .evaluate<string[]>(PAGE_PROBLEMS)
      .catch((err: Error) => [`the page could not be inspected: ${err.message.split('\n')[0]}`]),
    stuck,
  ]).finally(() => clearTimeout(timer));
}

/**
 * Fetches a module's source through the page's context (same TLS rules as the page), only from
 * the app itself: stack frames are the page's words, and a crafted one must not aim the bot at
 * another host.
 */
function mapperFor(context: BrowserContext, allowed: (url: string) => boolean): SourceMapper {
  const fetched = new Map<string, Promise<string | undefined>>(); // several errors, one module: fetched once
  const fetchOnce = async (url: string) => {
    const res = await context.request.get(url, { timeout: 5000, maxRedirects: 0 }).catch(() => undefined);
    return res?.ok() ? res.text() : undefined;
  };
  return (url) => {
    if (!allowed(url)) return Promise.resolve(undefined);
    let text = fetched.get(url);
    if (!text) fetched.set(url, (text = fetchOnce(url)));
    return text;
  };
}

/** `http://h:1/apps/x/dev/` -> `http://h:1/apps/x/`: the app's own origin and base path (both views). */
function ownPrefix(url: URL): string {
  return `${url.origin}${url.pathname.replace(/dev\/$/, '')}`;
}

/** Control and format characters (terminal escapes, bidi overrides) out; whitespace runs to one space. */
function oneLine(s: string): string {
  return s
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function pathOf(u: string, base: string): string {
  const p = new URL(u).pathname;
  return p.startsWith(base) ? p.slice(base.length) || '/' : p;
}
