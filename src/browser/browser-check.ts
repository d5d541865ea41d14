import type { Browser } from 'playwright-core';
import type { Logger, RenderChecker, RenderResult } from '../core/ports/index.ts';
import type { ScratchState } from '../core/ports/shared.ts';
import { scratchSocket, SHARED_PATH } from './scratch-socket.ts';
import { CheckBrowser, type FreshPage } from './check-browser.ts';
import { pageProblems } from './page-problems.ts';
import { RUNTIME, watch } from './page-watch.ts';
import { mapperFor, mapperForBuild } from './stack-frames.ts';
import { fromBuild } from './build-files.ts';

/** The whole page load, settle included, must fit in this. */
const LOAD_TIMEOUT_MS = 20_000;
/** The page is settled when quiet (page-watch.ts), or this long after `load`, whichever comes first. */
const SETTLE_MAX_MS = 4000;
/** One attempt's limit: the page load and its settling, the inspection, the screenshot and the source maps. */
const ATTEMPT_DEADLINE_MS = LOAD_TIMEOUT_MS + 25_000;
type CheckOptions = { sharedState?: ScratchState; files?: Map<string, Uint8Array> };

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
  private readonly chromium: CheckBrowser;

  constructor(
    private readonly opts: {
      executablePath: string;
      logger: Logger;
      /** Extra Chromium flags (VIBE_BROWSER_ARGS), e.g. --ignore-certificate-errors for a test's tunnels. */
      extraArgs?: string[];
    },
  ) {
    this.chromium = new CheckBrowser(opts);
  }

  /**
   * Undefined when the check could not be made (the browser would not start, or died during the
   * check, twice): that is the bot's problem, never blamed on the app. A check the bot spoiled is
   * made once more on a fresh page before giving up.
   */
  async render(url: string, opts: CheckOptions = {}): Promise<RenderResult | undefined> {
    const first = await this.bounded(url, true, opts);
    if (first !== BOT_FAILED) return first;
    this.opts.logger.warn({ url }, 'the check browser failed during a check; trying once more');
    const second = await this.bounded(url, false, opts);
    return second === BOT_FAILED ? undefined : second;
  }

  /**
   * One attempt with a deadline of its own: every step inside has a timeout, but a browser that
   * stops answering the protocol altogether must not hold a build. Past it, that browser is
   * dropped (the next attempt starts another) and the attempt counts as the bot's failure.
   */
  private async bounded(url: string, firstTry: boolean, opts: CheckOptions): Promise<RenderResult | typeof BOT_FAILED> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof BOT_FAILED>((resolve) => {
      timer = setTimeout(() => {
        this.opts.logger.warn({ url, ms: ATTEMPT_DEADLINE_MS }, 'the check browser stopped answering; dropping it');
        void this.chromium.drop();
        resolve(BOT_FAILED);
      }, ATTEMPT_DEADLINE_MS);
    });
    try {
      return await Promise.race([this.attempt(url, firstTry, opts), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async attempt(
    url: string,
    firstTry: boolean,
    { sharedState: shared, files }: CheckOptions,
  ): Promise<RenderResult | typeof BOT_FAILED> {
    const started = Date.now();
    let browser: Browser;
    let fresh: FreshPage;
    try {
      browser = await this.chromium.launch();
      fresh = firstTry ? await this.chromium.takeFresh(browser) : await this.chromium.makeFresh(browser);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message.split('\n')[0] }, 'the check browser is not available');
      return BOT_FAILED;
    }
    const { context, page } = fresh;
    let crashed = false;
    page.on('crash', () => (crashed = true));
    try {
      // The page is hostile code: it may reach nothing but its own app (no other host, not the
      // bot's loopback services, not another app), so the bot's browser cannot be used to probe.
      const own = ownPrefix(new URL(url));
      const allowed = (u: string) => u.startsWith(own) || u.startsWith('data:') || u.startsWith('blob:');
      fresh.route({
        // A build given is served from memory: nothing under the app's address reaches the network.
        http: (route) => {
          const u = route.request().url();
          if (files && u.startsWith(own)) return route.fulfill(fromBuild(files, u.slice(own.length)));
          return allowed(u) ? route.continue() : route.abort('blockedbyclient');
        },
        ws: (ws) => {
          const http = ws.url().replace(/^ws/, 'http');
          // The app's shared state: a scratch copy answered in the bot, never the real data.
          if (SHARED_PATH.test(new URL(http).pathname))
            return shared ? shared.open(scratchSocket(ws)) : void ws.close();
          return allowed(http) && !files ? ws.connectToServer() : void ws.close();
        },
      });
      const found = await watch(page, own);
      const loaded = await page
        .goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS })
        .then(() => true)
        .catch((err: Error) => {
          found.add({ message: `${RUNTIME} the page did not load: ${err.message.split('\n')[0]}` });
          return false;
        });
      const picture = (quiet = false) =>
        page.screenshot({ type: 'png', timeout: 5000, caret: 'initial' }).catch((err: Error) => {
          if (!quiet) this.opts.logger.warn({ err: err.message, url }, 'screenshot failed');
          return undefined;
        });
      // The picture is taken while the page settles; it is kept when nothing changed in the page
      // from before it was taken to the end of the check, else taken again of the settled page.
      let early: { mark: string; shot: Promise<Buffer | undefined> } | undefined;
      if (loaded) {
        const mark = await found.mark();
        if (mark !== undefined) early = { mark, shot: picture(true) }; // else only the settled page is pictured
        await found.settled(Math.min(SETTLE_MAX_MS, LOAD_TIMEOUT_MS - (Date.now() - started)));
        for (const message of await pageProblems(page)) found.add({ message: `${RUNTIME} ${message}` });
      }
      // Only a clean load is pictured (a failing one goes back to the model, not into chat).
      let screenshot: Buffer | undefined;
      if (loaded && found.clean()) {
        const taken = await early?.shot;
        const unchanged = early !== undefined && early.mark === (await found.mark());
        screenshot = (unchanged ? taken : undefined) ?? (await picture());
      }
      // The browser went away under the check: what was found says nothing about the app. A page
      // that crashed or closed may be the bot's bad luck once; twice in a row it is the app's doing
      // (a renderer out of memory, say).
      if (!browser.isConnected() || ((page.isClosed() || crashed) && firstTry)) {
        this.opts.logger.warn({ url, crashed }, 'the check browser or its page died during a check');
        return BOT_FAILED;
      }
      if (page.isClosed() || crashed)
        found.add({ message: `${RUNTIME} the page crashed or closed itself while it was checked (too much memory?)` });
      const errors = await found.errors(files ? mapperForBuild(files, own) : mapperFor(context, allowed));
      return { errors, screenshot, ms: Date.now() - started };
    } catch (err) {
      // Only the browser can throw here (the context closed under the check): the bot's problem.
      this.opts.logger.warn({ err: (err as Error).message.split('\n')[0], url }, 'the check could not be set up');
      return BOT_FAILED;
    } finally {
      this.chromium.retire(context, browser);
    }
  }

  /** Starts the browser and makes the first check's page now, so that the first check does not wait for them. */
  async warm(): Promise<void> {
    const browser = await this.chromium.launch().catch((err: Error) => {
      this.opts.logger.warn({ err: err.message.split('\n')[0] }, 'the check browser is not available');
      return undefined;
    });
    if (browser) this.chromium.prepareSpare(browser);
  }

  close(): Promise<void> {
    return this.chromium.close();
  }
}

/** `http://h:1/apps/x/dev/` -> `http://h:1/apps/x/`: the app's own origin and base path (both views). */
function ownPrefix(url: URL): string {
  return `${url.origin}${url.pathname.replace(/dev\/$/, '')}`;
}
