import { tmpdir } from 'node:os';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
  type Route,
  type WebSocketRoute,
} from 'playwright-core';
import type { Logger } from '../core/ports/index.ts';

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

/** What a fresh page's requests and sockets meet: set by the check that takes it. */
export interface PageRoutes {
  http(route: Route): Promise<void>;
  ws(ws: WebSocketRoute): void;
}

/** A context and its page, routed before anything loads in them (until `route`, nothing gets out). */
export interface FreshPage {
  context: BrowserContext;
  page: Page;
  route(handlers: PageRoutes): void;
}

/**
 * The check's Chromium: one browser for the bot process (started on first use, restarted if it
 * dies), and a fresh context and page for every check, one made ahead of time.
 */
export class CheckBrowser {
  private browser?: Promise<Browser>;

  constructor(
    private readonly opts: {
      executablePath: string;
      logger: Logger;
      /** Extra Chromium flags (VIBE_BROWSER_ARGS), e.g. --ignore-certificate-errors for a test's tunnels. */
      extraArgs?: string[];
    },
  ) {}

  /** Forgets the current browser and its spare, and closes them without waiting on an answer. */
  async drop(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    this.spare = undefined;
    const b = await browser?.catch(() => undefined);
    await b?.close().catch(() => undefined);
  }

  /**
   * A context and page nobody has used, made ahead of time (a new page costs about half a second
   * here, mostly its renderer process): the spare, or a new one when there is none.
   */
  private spare?: { of: Browser; made: Promise<FreshPage> };

  async takeFresh(browser: Browser): Promise<FreshPage> {
    const spare = this.spare;
    this.spare = undefined;
    // A spare of a browser that has since exited is no use, and waiting on it may never end
    // (a request the dead browser never answered): it is left to fail on its own.
    const ready = spare?.of === browser && browser.isConnected() ? await spare.made.catch(() => undefined) : undefined;
    const usable = ready && !ready.page.isClosed() ? ready : undefined;
    return usable ?? (await this.makeFresh(browser));
  }

  /** Contexts of finished checks being closed (close waits for them). */
  private readonly closing = new Set<Promise<void>>();

  /**
   * Closes a finished check's context behind its answer (10 to 30 ms here, which the build need
   * not wait for), then makes the next check's page.
   */
  retire(context: BrowserContext, browser: Browser): void {
    const done = context
      .close()
      .catch(() => undefined)
      .then(() => this.prepareSpare(browser));
    this.closing.add(done);
    void done.finally(() => this.closing.delete(done));
  }

  /**
   * Starts making the next check's page, once this check is over: made during a check, its
   * renderer process competed with the page being checked for the same cores.
   */
  prepareSpare(browser: Browser): void {
    if (this.spare || !browser.isConnected() || this.browser === undefined) return;
    const made = this.makeFresh(browser);
    made.catch(() => undefined);
    this.spare = { of: browser, made };
  }

  /**
   * Its routes are installed here, ahead of the check (they cost about 0.1 s of round trips to the
   * browser), and answer through the handlers its check sets; until then every request is refused.
   */
  async makeFresh(browser: Browser): Promise<FreshPage> {
    const context = await browser.newContext({
      viewport: VIEWPORT,
      ignoreHTTPSErrors: this.opts.extraArgs?.includes('--ignore-certificate-errors') ?? false,
      serviceWorkers: 'block',
    });
    let handlers: PageRoutes = { http: (route) => route.abort('blockedbyclient'), ws: (ws) => void ws.close() };
    await Promise.all([
      context.route('**/*', (route) => handlers.http(route)),
      context.routeWebSocket(/.*/, (ws) => handlers.ws(ws)),
    ]);
    return { context, page: await context.newPage(), route: (h) => void (handlers = h) };
  }

  async close(): Promise<void> {
    await Promise.all(this.closing);
    const spare = this.spare;
    this.spare = undefined;
    // Waiting on a spare of a browser that has exited would wait for an answer that never comes.
    if (spare?.of.isConnected())
      await (await spare.made.catch(() => undefined))?.context.close().catch(() => undefined);
    const browser = this.browser;
    this.browser = undefined; // before closing: its 'disconnected' is then not a surprise
    await (await browser?.catch(() => undefined))?.close().catch(() => undefined);
  }

  launch(): Promise<Browser> {
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
